"""POST /telemetry: one reading set or a batch, parsed straight from the raw body and handed to ingest."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request
from pydantic import TypeAdapter, ValidationError
from starlette.requests import ClientDisconnect

from factorytwin.api.auth import Ingester, check_ingest
from factorytwin.api.deps import ServicesDep
from factorytwin.api.errors import BodyTooLarge, problems_from_validation
from factorytwin.domain import ReadingSet, TelemetryBatch
from factorytwin.errors import FieldProblem, InvalidInput
from factorytwin.ingest import IngestResult

log = logging.getLogger(__name__)
router = APIRouter(tags=["telemetry"])

# For the OpenAPI page only (the body is parsed by hand, see ``parse_telemetry``); the app merges SCHEMA_DEFS
# into the document's components.
_BODY_SCHEMA = TypeAdapter(ReadingSet | TelemetryBatch).json_schema(ref_template="#/components/schemas/{model}")
SCHEMA_DEFS = _BODY_SCHEMA.pop("$defs", {})

_BATCH_KEYS = (b'"readings"', b'"events"')


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes (before reading it all)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        # Nothing was stored and nobody is listening: one line for the operator, not a traceback per request.
        client = request.client.host if request.client is not None else "?"
        log.warning("POST /telemetry: client %s went away after %d bytes of the body; nothing stored", client, size)
        raise HTTPException(400, "the client disconnected before the body was complete") from None
    return b"".join(chunks)


def parse_telemetry(body: bytes) -> tuple[TelemetryBatch, bool]:
    """The batch in ``body`` and whether it was a single reading set; InvalidInput naming every problem.

    A batch is told from a single reading set by its "readings"/"events" keys. The body is parsed once, by
    pydantic's JSON parser straight into the models (no intermediate dicts).
    """
    if any(key in body for key in _BATCH_KEYS):
        try:
            return TelemetryBatch.model_validate_json(body), False
        except ValidationError as exc:
            # The keys may have been a sensor or a string of a single reading set: if it parses as one, it is one.
            try:
                reading = ReadingSet.model_validate_json(body)
            except ValidationError:
                raise InvalidInput(problems_from_validation(exc)) from None
    else:
        try:
            reading = ReadingSet.model_validate_json(body)
        except ValidationError as exc:
            raise InvalidInput(problems_from_validation(exc)) from None
    return TelemetryBatch.model_construct(readings=[reading], events=[]), True


def _unwrap_single(exc: InvalidInput) -> InvalidInput:
    """Problems of a single reading set located as in its own body (without the ``readings.0`` prefix)."""
    return InvalidInput(
        [FieldProblem(p.loc[2:] if p.loc[:2] == ("readings", 0) else p.loc, p.msg, p.value) for p in exc.problems]
    )


@router.post(
    "/telemetry",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _BODY_SCHEMA}},
        }
    },
    responses={
        400: {"description": "the client disconnected before the whole body arrived (nothing stored)"},
        413: {"description": "body larger than the configured cap"},
        403: {"description": "the credential may not write telemetry for a machine of the batch (nothing stored)"},
        422: {"description": "bad input; `detail` names every offending item and field"},
        503: {
            "description": "the store writer is saturated or the store is unavailable; retry after `Retry-After` "
            "seconds"
        },
    },
)
async def post_telemetry(who: Ingester, request: Request, services: ServicesDep) -> IngestResult:
    """Store one reading set `{machine_id, ts, values}` or a batch `{readings: [...], events: [...]}`.

    All-or-nothing and idempotent: a batch with any bad item stores nothing, and a resent batch stores nothing
    twice. The answer comes once the batch is committed.

    Needs a device key (which may write its own machine only: a batch naming another machine is refused whole
    with 403) or an operator's credential.
    """
    body = await read_body(request, services.settings.max_body_bytes)
    # The fast path takes a plainly good batch straight into columns; anything else (a single reading set, events,
    # any problem) is parsed and validated the full way, which names every problem.
    fast = services.ingest.decode_batch(body)
    if fast is None:
        batch, single = parse_telemetry(body)
        validated = None
    else:
        (batch, validated), single = fast, False
    check_ingest(who, {r.machine_id for r in batch.readings} | {e.machine_id for e in batch.events})
    try:
        return await services.ingest.ingest(batch, validated)
    except InvalidInput as exc:
        if single:
            raise _unwrap_single(exc) from None
        raise
