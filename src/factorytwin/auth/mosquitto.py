"""A locked-down Mosquitto: the password file and ACL that ``factorytwin mqtt-config`` writes.

Who may do what on the broker (the broker enforces it; factorytwin only writes its files):

- each **device** (user name = its machine id) may publish only ``<prefix>/<its id>/telemetry`` and subscribe only
  to ``<prefix>/<its id>/commands`` (an ACL ``pattern`` with ``%u``);
- each **gateway** (the simulator, a Node-RED flow, a plant's edge gateway) may do the same for the machines it
  is given;
- the **server** may read every machine's telemetry, write every machine's commands, and use the twin's own
  topics (``<prefix>/_bus/...``, ``<prefix>/_deadletter/...``);
- nobody else may connect (``allow_anonymous false``), and anything the ACL does not grant is refused.

The password file uses Mosquitto 2's own format, ``user:$7$<iterations>$<salt>$<hash>`` (PBKDF2-HMAC-SHA512, a
12-byte salt and a 64-byte hash, standard base64), which ``mosquitto_passwd`` writes too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

ITERATIONS = 101
"""Mosquitto 2's own default for ``$7$`` hashes."""
SERVER_USER = "ft-server"
SIMULATOR_GATEWAY = "ft-simulator"
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""User names that are also safe as one topic level (no ``/``, ``+``, ``#``, no spaces or colons)."""


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """A Mosquitto 2 password-file hash (``$7$``) of ``password``."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, dklen=64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def _check_user(value: str) -> str:
    if not _USER.match(value):
        raise ValueError(f"{value!r}: a broker user is 1-64 letters, digits, '.', '_' or '-' (it is a topic level)")
    return value


class Gateway(BaseModel):
    """A client that publishes for several machines (and receives their commands)."""

    name: str
    machines: list[str] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_user(value)

    @field_validator("machines")
    @classmethod
    def _machine_ids(cls, value: list[str]) -> list[str]:
        return [_check_user(m) for m in value]


class BrokerPlan(BaseModel):
    """Who gets an account on the broker."""

    prefix: str = "ft"
    server_user: str = SERVER_USER
    devices: list[str] = Field(default_factory=list, description="machine ids, one account each")
    gateways: list[Gateway] = Field(default_factory=list)

    @field_validator("prefix", "server_user")
    @classmethod
    def _level(cls, value: str) -> str:
        return _check_user(value)

    @field_validator("devices")
    @classmethod
    def _devices(cls, value: list[str]) -> list[str]:
        return [_check_user(m) for m in value]

    def users(self) -> list[str]:
        """Every account, the server's first; a name used twice is an error."""
        names = [self.server_user, *self.devices, *(g.name for g in self.gateways)]
        taken = sorted({n for n in names if names.count(n) > 1})
        if taken:
            raise ValueError(f"broker users must be unique; used twice: {', '.join(taken)}")
        return names


def acl_text(plan: BrokerPlan) -> str:
    """The Mosquitto ACL file of ``plan`` (everything not granted here is refused)."""
    p = plan.prefix
    lines = [
        "# Written by `factorytwin mqtt-config`; anything not granted here is refused by the broker.",
        "",
        f"user {plan.server_user}",
        f"topic read {p}/+/telemetry",
        f"topic write {p}/+/commands",
        f"topic readwrite {p}/_bus/#",
        f"topic write {p}/_deadletter/#",
    ]
    for gateway in plan.gateways:
        lines += ["", f"user {gateway.name}"]
        for machine in gateway.machines:
            lines += [f"topic write {p}/{machine}/telemetry", f"topic read {p}/{machine}/commands"]
    # Devices: the user name is the machine id, so one pattern covers them all (patterns apply to every user, and
    # grant the server and gateways nothing they would not have anyway: their own id is no machine's).
    lines += ["", "# every device: its own telemetry and commands only", f"pattern write {p}/%u/telemetry"]
    lines += [f"pattern read {p}/%u/commands", ""]
    return "\n".join(lines)


def conf_text(directory: Path, port: int = 1883, bind: str = "127.0.0.1") -> str:
    """A ``mosquitto.conf`` fragment using the files in ``directory``."""
    return (
        "# Written by `factorytwin mqtt-config`: include it from mosquitto.conf, or run `mosquitto -c` on it.\n"
        f"listener {port} {bind}\n"
        "allow_anonymous false\n"
        f"password_file {directory.resolve() / 'passwd'}\n"
        f"acl_file {directory.resolve() / 'acl'}\n"
    )


def write_broker_config(
    plan: BrokerPlan, directory: Path, rotate: bool = False, port: int = 1883, bind: str = "127.0.0.1"
) -> dict[str, str]:
    """Write ``passwd``, ``acl``, ``mosquitto.conf`` and ``credentials.json`` into ``directory``; return each
    user's password.

    Passwords already in ``credentials.json`` are kept (so rerunning after adding a machine changes nobody
    else's), unless ``rotate``. ``credentials.json`` holds the plain passwords to hand to each device and to
    ``FT_MQTT_URL``: it is written readable by its owner only.
    """
    users = plan.users()
    directory.mkdir(parents=True, exist_ok=True)
    secrets_file = directory / "credentials.json"
    known: dict[str, str] = {}
    if secrets_file.is_file() and not rotate:
        known = {str(k): str(v) for k, v in json.loads(secrets_file.read_text())["passwords"].items()}
    passwords = {user: known.get(user) or secrets.token_urlsafe(24) for user in users}
    _write_private(secrets_file, json.dumps({"prefix": plan.prefix, "passwords": passwords}, indent=2) + "\n")
    _write_private(directory / "passwd", "".join(f"{u}:{hash_password(pw)}\n" for u, pw in passwords.items()))
    (directory / "acl").write_text(acl_text(plan))
    (directory / "mosquitto.conf").write_text(conf_text(directory, port, bind))
    return passwords


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable and writable by its owner only (created so, never world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(path, 0o600)
