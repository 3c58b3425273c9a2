"""Turning an MQTT telemetry message into a ``TelemetryBatch``, and telling content errors from outages.

Every way a payload can be bad has a reason name, counted in ``GET /api/v1/health`` (section ``mqtt``,
``rejected.<reason>``) and carried by its dead letter:

=================  ==========================================================================================
``too_large``      the payload is over ``FT_MQTT_MAX_PAYLOAD_BYTES``
``bad_topic``      the topic is not ``<prefix>/<machine_id>/telemetry``
``bad_encoding``   not UTF-8 (JSON is UTF-8)
``not_json``       not JSON
``too_deep``       nested deeper than ``MAX_DEPTH`` (``'['*5000`` would blow the parser's recursion limit)
``nul_character``  a NUL character in a string (PostgreSQL cannot store it in text)
``bad_shape``      JSON, but not a reading set or a batch (the pydantic error names the field)
``topic_mismatch`` a machine id in the payload is not the topic's
``invalid``        the domain refuses it: unknown machine or sensor, out of range, bad timestamp
``store_rejected`` the store refused it for its content (``StoreRejected``)
``unparseable``    anything else raised while parsing (a bug, but about this message only)
=================  ==========================================================================================
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Literal, get_args

from pydantic import ValidationError

from factorytwin.domain import Event, ReadingSet, TelemetryBatch
from factorytwin.errors import InvalidInput, Overloaded, StoreRejected

MAX_DEPTH = 32  # a reading set is 3 levels deep; event data may nest, but not without end
DETAIL_MAX_CHARS = 300  # what a log line or a dead letter says about the problem; never the payload itself

RejectReason = Literal[
    "too_large",
    "bad_topic",
    "bad_encoding",
    "not_json",
    "too_deep",
    "nul_character",
    "bad_shape",
    "topic_mismatch",
    "invalid",
    "store_rejected",
    "unparseable",
]
REJECT_REASONS: tuple[RejectReason, ...] = get_args(RejectReason)
Verdict = Literal["reject", "wait", "retry"]


class MalformedMessage(ValueError):
    """A payload that cannot be a telemetry message for its topic; ``reason`` says which way it is bad."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason: RejectReason = reason
        self.detail = detail[:DETAIL_MAX_CHARS]


def topic_machine(topic: str) -> str:
    """The machine id of ``<prefix>/<machine_id>/telemetry``; ``MalformedMessage`` for any other topic."""
    parts = topic.split("/")
    if len(parts) < 3 or parts[-1] != "telemetry":
        raise MalformedMessage("bad_topic", f"topic {topic!r} is not <prefix>/<machine_id>/telemetry")
    return parts[-2]


def _check_tree(doc: object) -> None:
    """Refuse nesting deeper than ``MAX_DEPTH`` and NUL characters, iteratively (no recursion to blow).

    Only containers go on the stack: numbers (most of a telemetry message) are skipped where they are found.
    """
    stack: list[tuple[dict[str, object] | list[object], int]] = [(doc, 1)] if isinstance(doc, dict | list) else []
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise MalformedMessage("too_deep", f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            for key in node:
                if "\x00" in key:
                    raise MalformedMessage("nul_character", "a key contains a NUL character (\\u0000)")
            values: Iterable[object] = node.values()
        else:
            values = node
        for value in values:
            if isinstance(value, str):
                if "\x00" in value:
                    raise MalformedMessage("nul_character", "a string contains a NUL character (\\u0000)")
            elif isinstance(value, dict | list):
                stack.append((value, depth + 1))


def _decode(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedMessage("not_json", f"payload is not JSON: {exc.msg} at {exc.pos}") from None
    except RecursionError:
        raise MalformedMessage("too_deep", "payload is nested too deeply to parse") from None


def parse_telemetry(topic: str, payload: bytes, max_bytes: int | None = None) -> TelemetryBatch:
    """A message's payload as a batch; raise ``MalformedMessage`` saying what is wrong (never anything else).

    The payload is a reading set ``{machine_id, ts, values}`` or a batch ``{readings, events}``, as for
    ``POST /telemetry``; every machine id in it must be the one in the topic ``<prefix>/<machine_id>/telemetry``.
    """
    readings, events = parse_message(topic, payload, max_bytes)
    return TelemetryBatch.model_construct(readings=readings, events=events)


def parse_message(topic: str, payload: bytes, max_bytes: int | None = None) -> tuple[list[ReadingSet], list[Event]]:
    """``parse_telemetry`` without the batch around the result (MQTT ingest merges many messages into one)."""
    try:
        return _parse(topic, payload, max_bytes)
    except MalformedMessage:
        raise
    except Exception as exc:  # e.g. RecursionError deep inside a validator: still about this message only
        raise MalformedMessage("unparseable", f"{type(exc).__name__} while parsing") from None


def _one_reading_set(payload: bytes, machine: str) -> ReadingSet | None:
    """What a device sends, one reading set of the topic's machine, parsed by pydantic straight from the bytes.

    A payload that validates as a ``ReadingSet`` is two levels deep and UTF-8, and JSON can write a NUL only as
    ``\\u0000``; so when there is none, the checks of the long way cannot fail and are skipped (most of the
    time per message). Anything else (a batch, an error of any kind) gives None: the long way decides, with the
    reason it always gave.
    """
    if b"\\u0000" in payload:
        return None
    try:
        reading_set = ReadingSet.model_validate_json(payload)
    except ValidationError:
        return None
    return reading_set if reading_set.machine_id == machine else None


def _parse(topic: str, payload: bytes, max_bytes: int | None) -> tuple[list[ReadingSet], list[Event]]:
    if max_bytes is not None and len(payload) > max_bytes:
        raise MalformedMessage("too_large", f"payload of {len(payload)} bytes is over the limit of {max_bytes}")
    machine = topic_machine(topic)
    fast = _one_reading_set(payload, machine)
    if fast is not None:
        return [fast], []
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMessage("bad_encoding", f"payload is not UTF-8 (byte {exc.start})") from None
    if "\x00" in text:
        raise MalformedMessage("nul_character", "payload contains a NUL byte")
    doc = _decode(text)
    if not isinstance(doc, dict):
        raise MalformedMessage("bad_shape", "payload must be a JSON object (a reading set or a batch)")
    _check_tree(doc)
    try:
        if "readings" in doc or "events" in doc:
            batch = TelemetryBatch.model_validate(doc)
        else:
            batch = TelemetryBatch(readings=[ReadingSet.model_validate(doc)])
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(payload)"
        raise MalformedMessage("bad_shape", f"{where}: {first['msg']} ({exc.error_count()} problem(s))") from None
    owners = [("readings", i, r.machine_id) for i, r in enumerate(batch.readings)]
    owners += [("events", i, e.machine_id) for i, e in enumerate(batch.events)]
    for kind, i, machine_id in owners:
        if machine_id != machine:
            raise MalformedMessage(
                "topic_mismatch",
                f"{kind}.{i}.machine_id: {machine_id!r} does not match the topic's machine {machine!r}",
            )
    return batch.readings, batch.events


def classify(exc: BaseException) -> tuple[Verdict, RejectReason | None]:
    """What to do with a message whose ingest raised ``exc``.

    ``reject`` (acknowledge, count, dead-letter): the content is at fault and resending cannot help. ``wait``: the
    writer's queue is full, try again in a moment. ``retry``: anything else is taken for an outage of the store
    (``StoreUnavailable`` or an error nobody expected): keep the message and retry it with back-off.
    """
    if isinstance(exc, InvalidInput | ValidationError):
        return "reject", "invalid"
    if isinstance(exc, StoreRejected):
        return "reject", "store_rejected"
    if isinstance(exc, Overloaded):
        return "wait", None
    return "retry", None


__all__ = [
    "MAX_DEPTH",
    "REJECT_REASONS",
    "MalformedMessage",
    "RejectReason",
    "classify",
    "parse_message",
    "parse_telemetry",
    "topic_machine",
]
