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


class Overloaded(FactoryTwinError):
    """The service is at capacity (the store writer's queue is full); retry later."""


class LayoutError(FactoryTwinError):
    """A factory layout file that cannot be used; the message names the file, line and field."""
