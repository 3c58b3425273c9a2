"""Settings of a factorytwin process, read once at start-up from the environment (prefix ``FT_``).

The one ``Settings`` object is built by the CLI (or a test) and passed down; nothing reads the
environment anywhere else.
"""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from factorytwin.auth.roles import Role

ENV_PREFIX = "FT_"


class Settings(BaseSettings):
    """Everything a factorytwin service needs to know about where it runs."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=None, extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/factorytwin.db",
        description="sqlite:///path/to/file.db (embedded default) or postgresql://user@host:port/db",
    )
    mqtt_url: str | None = Field(
        default=None,
        description="mqtt://host:port; when set, MQTT ingest, command channel and event bus are on",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535, description="0: any free port")
    layout_path: Path | None = Field(
        default=None, description="factory layout YAML/JSON; the built-in default factory when unset"
    )
    model_dir: Path = Field(default=Path("var/models"), description="where the model registry keeps versions")
    max_batch_readings: int = Field(
        default=100_000, ge=1, description="largest number of sensor values one POST /telemetry may carry"
    )
    max_future_skew_s: float = Field(
        default=300.0, ge=0, description="readings stamped further than this in the future are refused"
    )
    min_timestamp: AwareDatetime = Field(
        default=datetime(1970, 1, 1, tzinfo=UTC),
        description="readings and events stamped before this instant are refused (a sender's clock or unit bug)",
    )
    max_body_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, description="largest POST /telemetry body in bytes; larger gets 413"
    )
    ingest_queue_batches: int = Field(
        default=64, ge=1, description="batches waiting for the store writer before ingest answers 503"
    )
    offline_after_s: float = Field(default=30.0, gt=0, description="silence after which a machine is offline")
    time_scale: float = Field(
        default=1.0,
        gt=0,
        description="data seconds per wall-clock second: the speed-up of a time-compressed simulator (the demo sets "
        "it to its --speed), so rates of change and prediction windows are read in the machines' own time",
    )
    plant_timezone: str = Field(
        default="UTC",
        description="IANA time zone of the plant (e.g. Europe/Berlin): the dashboard shows every time in it",
    )
    currency: str = Field(
        default="EUR", pattern=r"^[A-Z]{3}$", description="ISO 4217 code of the costs (maintenance plan, what-if)"
    )
    alarm_on_delay_s: float = Field(
        default=90.0,
        ge=0,
        le=86_400,
        description="default on-delay of alarm rules: machine seconds a condition must hold before it is raised "
        "(per kind and machine: twin.operating)",
    )
    alarm_off_delay_s: float = Field(
        default=60.0, ge=0, le=86_400, description="default off-delay: machine seconds without it before it clears"
    )
    alarm_deadband: float = Field(
        default=0.05, ge=0, le=0.5, description="default deadband: fraction of the band width inside it to clear"
    )
    command_timeout_s: float = Field(
        default=10.0, gt=0, le=3600, description="a delivered command the machine has not answered by then timed out"
    )
    stream_interval_s: float = Field(
        default=0.25,
        gt=0,
        description="WebSocket updates are coalesced per machine to at most one per interval",
    )
    # -- limits (issue 18): every buffer a client or a request can fill has a bound -------------------------------
    stream_client_max_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=64 * 1024,
        description="bytes of WebSocket messages waiting for one client; above it the client is dropped (1013)",
    )
    stream_max_subscriptions: int = Field(
        default=1000, ge=1, description="most machine ids one WebSocket subscription may name"
    )
    train_max_rows: int = Field(
        default=2_000_000,
        ge=1000,
        description="most stored readings (sensor values) one retraining reads; older ones are left out",
    )
    train_jobs_kept: int = Field(default=20, ge=1, description="finished training jobs remembered for GET")
    max_header_bytes: int = Field(
        default=64 * 1024, ge=4096, description="largest request head (request line + headers); larger is refused"
    )
    mqtt_client_id: str = Field(
        default="factorytwin-ingest",
        description="MQTT ingest client id (persistent session): give each API instance its own",
    )
    mqtt_shared_subscription: bool = Field(
        default=False,
        description="subscribe as $share/factorytwin/ft/+/telemetry so several instances split the load; off: one "
        "instance subscribes to ft/+/telemetry itself (nothing is lost across broker restarts)",
    )
    connectors_enabled: bool = Field(
        default=True,
        description="run the stored connectors (OPC UA, Modbus, MQTT JSON) in this process; with several API "
        "processes on one database, true on exactly one of them, else every one polls every device",
    )
    mqtt_session_expiry_s: int | None = Field(
        default=None,
        ge=0,
        le=0xFFFFFFFF,
        description="MQTT v5 session expiry of the ingest subscriber: how long the broker keeps queueing for an "
        "instance that is gone. Default: never when not shared, 120 s when shared (a crashed member stops taking "
        "its share of the group then)",
    )
    mqtt_max_payload_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="larger MQTT telemetry messages are rejected (and dead-lettered)"
    )
    mqtt_dead_letter: bool = Field(
        default=True,
        description="publish each rejected MQTT message (raw payload, reason) to ft/_deadletter/<machine>/telemetry",
    )
    mqtt_username: str | None = Field(
        default=None, description="broker user name when it is not in FT_MQTT_URL (giving both is an error)"
    )
    mqtt_password: SecretStr | None = Field(
        default=None,
        description="broker password when it is not in FT_MQTT_URL: keeps it out of the URL, which is shown in "
        "more places",
    )
    mqtt_ca_file: Path | None = Field(
        default=None,
        description="CA bundle (PEM) that signed the broker's certificate (mqtts://); default: the system's CAs",
    )
    mqtt_cert_file: Path | None = Field(default=None, description="client certificate (PEM) for mqtts://")
    mqtt_key_file: Path | None = Field(default=None, description="private key (PEM) of FT_MQTT_CERT_FILE")
    # -- security (issue 11) -----------------------------------------------------------------------------------
    max_request_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="largest request body of every route but POST /telemetry (FT_MAX_BODY_BYTES); larger gets 413",
    )
    max_asset_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="largest glTF/GLB file POST /assets accepts (the whole upload); larger gets 413",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="comma-separated exact origins (https://host[:port]) whose pages may call the API with "
        "credentials; empty: CORS off (same origin only)",
    )
    oidc_issuer: str | None = Field(default=None, description="OpenID Connect: the exact 'iss' of the tokens")
    oidc_audience: str | None = Field(default=None, description="OpenID Connect: the 'aud' tokens must carry")
    oidc_jwks_url: str | None = Field(
        default=None, description="OpenID Connect: the provider's JWKS (https://; http:// on loopback only)"
    )
    oidc_group_roles: Annotated[dict[str, Role], NoDecode] = Field(
        default={},
        description='OpenID Connect: group -> role, as JSON {"ops": "operator"} or ops=operator,eng=engineer',
    )
    oidc_groups_claim: str = Field(default="groups", min_length=1, description="claim holding the groups")
    oidc_username_claim: str = Field(
        default="preferred_username", min_length=1, description="claim naming the user ('sub' when absent)"
    )
    kpi_warm_days: int = Field(
        default=366,
        ge=0,
        le=3660,
        description="days of KPI day tallies (kpi.cache) read in the background after start-up, so the first "
        "year-long KPI request is not the one that reads the year (0: off)",
    )
    # -- what-if scenarios (issue 16) ---------------------------------------------------------------------------
    whatif_max_running: int = Field(default=1, ge=1, le=16, description="scenario jobs simulating at once")
    whatif_max_queued: int = Field(
        default=4, ge=0, le=100, description="scenario jobs waiting beyond the running ones; more is 429"
    )
    whatif_workers: int = Field(
        default=2, ge=0, le=64, description="worker processes per scenario job (0: in the API process's thread)"
    )

    @field_validator("plant_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. UTC, Europe/Berlin, America/Chicago)") from None
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin == "*" or "*" in origin:
                raise ValueError(
                    "'*' is not allowed: CORS here allows credentials (the session cookie), and a wildcard would "
                    "let any web site act with them; list the exact origins, e.g. https://hmi.plant.example"
                )
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or origin != f"{parts.scheme}://{parts.netloc}"
            ):
                raise ValueError(f"{origin!r} is not an origin: give scheme://host[:port], without path or slash")
        return origins

    @field_validator("oidc_group_roles", mode="before")
    @classmethod
    def _parse_group_roles(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text:
            return {}
        if text.startswith("{"):
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON: {exc.msg} at character {exc.pos}") from None
        pairs: dict[str, str] = {}
        for item in text.split(","):
            group, sep, role = item.partition("=")
            if not sep or not group.strip() or not role.strip():
                raise ValueError(f"{item.strip()!r}: give group=role pairs separated by commas, or a JSON object")
            pairs[group.strip()] = role.strip()
        return pairs

    @model_validator(mode="after")
    def _whole_configurations(self) -> Self:
        """OpenID Connect all or nothing; a client key with its certificate."""
        oidc = {
            "FT_OIDC_ISSUER": self.oidc_issuer,
            "FT_OIDC_AUDIENCE": self.oidc_audience,
            "FT_OIDC_JWKS_URL": self.oidc_jwks_url,
            "FT_OIDC_GROUP_ROLES": self.oidc_group_roles,
        }
        given = [name for name, value in oidc.items() if value]
        if given and len(given) < len(oidc):
            missing = ", ".join(name for name in oidc if name not in given)
            raise ValueError(f"OpenID Connect is half configured: {', '.join(given)} set, {missing} missing")
        if self.oidc_jwks_url:
            parts = urlsplit(self.oidc_jwks_url)
            if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(parts.hostname or "")):
                raise ValueError(
                    f"FT_OIDC_JWKS_URL: {self.oidc_jwks_url!r} must be https:// (http:// only on loopback): whoever "
                    "can change the keys in transit can sign tokens"
                )
        if (self.mqtt_cert_file is None) != (self.mqtt_key_file is None):
            raise ValueError("FT_MQTT_CERT_FILE and FT_MQTT_KEY_FILE go together: a client certificate needs its key")
        return self

    @property
    def oidc_enabled(self) -> bool:
        """True when OpenID Connect bearer tokens are accepted (the validator made it all or nothing)."""
        return self.oidc_issuer is not None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settings_problem(exc: ValidationError) -> str:
    """A settings error as one line per problem, naming the ``FT_`` variable: what ``serve`` prints, not a trace."""
    lines = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        msg = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{ENV_PREFIX}{loc[0].upper()}{''.join(f'[{p}]' for p in loc[1:])}: {msg}" if loc else msg)
    return "; ".join(lines)
