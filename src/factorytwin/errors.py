"""One exception hierarchy for factorytwin. The API maps each to a 4xx with the offending field's path."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One thing wrong with an input: where (``loc``, a path of keys and indexes) and what."""

    loc: tuple[str | int, ...]
    msg: str
    value: object = None


class FactoryTwinError(Exception):
    """Base of every error factorytwin raises on purpose."""


@dataclass
class InvalidInput(FactoryTwinError):
    """Input that breaks a rule of the domain (unknown machine or sensor, out-of-range value, ...)."""

    problems: list[FieldProblem] = field(default_factory=list)

    def __str__(self) -> str:
        shown = "; ".join(f"{'.'.join(str(p) for p in pr.loc)}: {pr.msg}" for pr in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        return shown + more


class NotFound(FactoryTwinError):
    """A thing asked for by id does not exist."""


class Conflict(FactoryTwinError):
    """A request that clashes with what exists (an id that is taken, a thing still in use): 409, at ``loc``."""

    def __init__(self, msg: str, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(msg)
        self.loc = loc


class Overloaded(FactoryTwinError):
    """The service is at capacity (the store writer's queue is full); retry later."""


class LayoutError(FactoryTwinError):
    """A factory layout file that cannot be used; the message names the file, line and field."""


class StoreUnavailable(FactoryTwinError):
    """The store cannot be reached or is failing for reasons outside the data (connection lost, disk full).

    Retrying later helps: the API answers 503 with Retry-After, MQTT ingest keeps the message unacknowledged and
    retries it.
    """


class StoreRejected(FactoryTwinError):
    """The store refused a write because of its content (a character or value the backend cannot hold).

    Retrying does not help: the API answers 422, MQTT ingest counts the message as rejected and acknowledges it.
    """


class ServiceUnavailable(FactoryTwinError):
    """A service a request needs (the live twin, the predictor) is not running: 503 over REST, close 1011 on the
    WebSocket."""
