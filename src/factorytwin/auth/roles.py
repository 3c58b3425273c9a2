"""Roles, actions and the one permission check: "may this caller do X".

Roles are ordered — viewer < operator < engineer < admin — and each role may do everything of the roles below it.
An action names what a route does; ``REQUIRED_ROLE`` says the least role that may do it. Devices have no role:
a device key may only ingest telemetry for its own machine(s).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's or token's role, from least to most privileged."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ENGINEER = "engineer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Position in the order viewer (0) < operator < engineer < admin (3)."""
        return _ORDER.index(self)

    def includes(self, other: Role) -> bool:
        """True when this role may do everything ``other`` may."""
        return self.rank >= other.rank


_ORDER = [Role.VIEWER, Role.OPERATOR, Role.ENGINEER, Role.ADMIN]


class Action(StrEnum):
    """What a caller wants to do; each route maps to one action."""

    READ = "read"
    """Read state, history, alarms, layout, predictions; open the live stream."""
    INGEST = "ingest"
    """Post telemetry (a device for its own machine, or an operator and above for any)."""
    COMMAND = "command"
    """Send commands to machines (stop, restart, ...)."""
    HANDLE_ALARM = "handle_alarm"
    """Acknowledge, clear or shelve alarms."""
    CONFIGURE = "configure"
    """Change machines, layout, connectors; train and activate models."""
    ADMINISTER = "administer"
    """Manage users and tokens; read the audit trail."""


REQUIRED_ROLE: dict[Action, Role] = {
    Action.READ: Role.VIEWER,
    Action.INGEST: Role.OPERATOR,
    Action.COMMAND: Role.OPERATOR,
    Action.HANDLE_ALARM: Role.OPERATOR,
    Action.CONFIGURE: Role.ENGINEER,
    Action.ADMINISTER: Role.ADMIN,
}
"""The least role that may do each action."""
