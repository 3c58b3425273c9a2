"""``Settings`` of the security pieces (issue 11): OpenID Connect all or nothing, CORS origins exact, MQTT client
certificates whole; a bad setting is one line naming the ``FT_`` variable, also from ``factorytwin serve``."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from factorytwin.api.lifespan import oidc_verifier
from factorytwin.auth import Role
from factorytwin.cli import app as cli
from factorytwin.config import Settings, settings_problem

OIDC = {
    "oidc_issuer": "https://idp.example/realms/plant",
    "oidc_audience": "factorytwin",
    "oidc_jwks_url": "https://idp.example/realms/plant/protocol/openid-connect/certs",
}


def problem(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        Settings(**values)  # type: ignore[arg-type]
    return settings_problem(caught.value)


@pytest.mark.parametrize(
    "text",
    ['{"plant-ops": "operator", "plant-eng": "engineer"}', "plant-ops=operator, plant-eng = engineer"],
    ids=["json", "pairs"],
)
def test_group_roles_are_read_as_json_or_as_pairs(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FT_OIDC_GROUP_ROLES", text)
    settings = Settings(**OIDC)  # type: ignore[arg-type]
    assert settings.oidc_group_roles == {"plant-ops": Role.OPERATOR, "plant-eng": Role.ENGINEER}
    assert settings.oidc_enabled
    verifier = oidc_verifier(settings)
    assert verifier is not None
    assert verifier.config.group_roles == settings.oidc_group_roles


def test_oidc_is_off_by_default() -> None:
    settings = Settings()
    assert not settings.oidc_enabled
    assert oidc_verifier(settings) is None


def test_a_half_configured_oidc_says_what_is_missing() -> None:
    text = problem(oidc_issuer="https://idp.example")
    assert text == (
        "OpenID Connect is half configured: FT_OIDC_ISSUER set, FT_OIDC_AUDIENCE, FT_OIDC_JWKS_URL, "
        "FT_OIDC_GROUP_ROLES missing"
    )


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ("plant-ops=boss", "FT_OIDC_GROUP_ROLES[plant-ops]: Input should be 'viewer', 'operator', 'engineer' or"),
        ("plant-ops", "FT_OIDC_GROUP_ROLES: 'plant-ops': give group=role pairs"),
        ('{"plant-ops": ', "FT_OIDC_GROUP_ROLES: not valid JSON"),
    ],
)
def test_a_bad_group_role_map_names_the_setting(roles: str, expected: str) -> None:
    text = problem(**OIDC, oidc_group_roles=roles)
    assert text.startswith(expected)
    assert "\n" not in text


def test_the_jwks_is_fetched_over_https_or_on_loopback_only() -> None:
    roles = {"oidc_group_roles": "ops=operator"}
    assert "must be https://" in problem(**{**OIDC, **roles, "oidc_jwks_url": "http://idp.example/certs"})
    loopback = {**OIDC, **roles, "oidc_jwks_url": "http://127.0.0.1:8080/certs"}
    assert Settings(**loopback).oidc_enabled  # type: ignore[arg-type]


def test_cors_origins_are_exact_origins() -> None:
    two = Settings(cors_origins="https://hmi.plant.example, http://localhost:5173")
    assert two.cors_origins == ["https://hmi.plant.example", "http://localhost:5173"]
    assert Settings().cors_origins == []
    assert problem(cors_origins="*").startswith("FT_CORS_ORIGINS: '*' is not allowed: CORS here allows credentials")
    assert "'*' is not allowed" in problem(cors_origins="https://*.plant.example")
    assert "is not an origin" in problem(cors_origins="https://hmi.plant.example/")
    assert "is not an origin" in problem(cors_origins="hmi.plant.example")


def test_a_client_certificate_needs_its_key() -> None:
    assert "go together" in problem(mqtt_cert_file="client.pem")


def test_serve_tells_a_half_configured_oidc_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FT_OIDC_ISSUER", "https://idp.example")
    monkeypatch.setenv("FT_OIDC_GROUP_ROLES", "ops=chief")
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: FT_OIDC_GROUP_ROLES[ops]: Input should be 'viewer', 'operator', 'engineer' or 'admin'"
    ]
    monkeypatch.setenv("FT_OIDC_GROUP_ROLES", "ops=operator")
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: OpenID Connect is half configured: FT_OIDC_ISSUER, FT_OIDC_GROUP_ROLES set, FT_OIDC_AUDIENCE, "
        "FT_OIDC_JWKS_URL missing"
    ]
    assert "Traceback" not in result.output
