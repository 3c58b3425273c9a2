"""OpenID Connect tokens verified against a JWKS that the test serves over HTTP on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey

from factorytwin.auth import AuditQuery, AuthService, Forbidden, Outcome, PrincipalKind, Role, Unauthenticated
from factorytwin.auth.oidc import OidcConfig, OidcVerifier
from factorytwin.errors import ServiceUnavailable
from factorytwin.store import Store
from factorytwin.store.auth import auth_store_for
from tests.unit.auth.conftest import Clock, cheap_passwords

ISSUER = "https://idp.plant.example/realms/plant"
AUDIENCE = "factorytwin"


class Jwks:
    """A JWKS document served on 127.0.0.1; ``keys`` can be swapped (rotation), ``hits`` counts fetches."""

    def __init__(self) -> None:
        self.keys: list[ECKey] = []
        self.hits = 0
        jwks = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                jwks.hits += 1
                body = json.dumps(KeySet(list(jwks.keys)).as_dict(private=False)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Shut the server down."""
        self.server.shutdown()
        self.server.server_close()


def new_key(kid: str) -> ECKey:
    """A P-256 signing key with key id ``kid``."""
    return ECKey.generate_key("P-256", parameters={"kid": kid}, private=True)


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    """The provider's JWKS with one key, 'k1'."""
    server = Jwks()
    server.keys = [new_key("k1")]
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def verifier(jwks: Jwks) -> AsyncIterator[OidcVerifier]:
    """A verifier of the test provider: groups 'plant-ops' -> operator, 'plant-eng' -> engineer."""
    config = OidcConfig(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks_url=jwks.url,
        group_roles={"plant-ops": Role.OPERATOR, "plant-eng": Role.ENGINEER},
        refetch_min_s=0,
        algorithms=["ES256"],
    )
    v = OidcVerifier(config)
    try:
        yield v
    finally:
        await v.close()


def token(key: ECKey | OctKey, alg: str = "ES256", **claims: Any) -> str:
    """A signed JWT with sensible claims, overridden by ``claims`` (None removes one)."""
    now = int(time.time())
    body: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "u-123",
        "preferred_username": "olga",
        "groups": ["plant-ops", "plant-eng", "cafeteria"],
        "iat": now,
        "exp": now + 300,
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    kid = key.kid or "k1"
    return jwt.encode({"alg": alg, "kid": kid}, body, key, algorithms=[alg])


async def test_a_valid_token_maps_its_groups_to_the_highest_role(jwks: Jwks, verifier: OidcVerifier) -> None:
    principal = await verifier.verify(token(jwks.keys[0]))
    assert (principal.kind, principal.name, principal.role) == (PrincipalKind.OIDC, "oidc:olga", Role.ENGINEER)
    await verifier.verify(token(jwks.keys[0], groups=["plant-ops"]))
    assert jwks.hits == 1  # the JWKS is cached


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"iss": "https://evil.example"}, "iss"),
        ({"aud": "another-app"}, "aud"),
        ({"exp": int(time.time()) - 3600}, "xpired"),
        ({"exp": None}, "exp"),
        ({"nbf": int(time.time()) + 3600}, "not yet valid"),
    ],
)
async def test_wrong_claims_are_refused(
    jwks: Jwks, verifier: OidcVerifier, claims: dict[str, Any], why: str, service: AuthService
) -> None:
    with pytest.raises(Unauthenticated, match="invalid, expired or revoked credential"):
        await service.oidc_principal(verifier, token(jwks.keys[0], **claims), "10.0.0.9")
    [entry] = await service.audit(AuditQuery(action="auth.oidc"))
    assert entry.outcome is Outcome.FAILURE
    assert why in entry.detail


async def test_a_bad_signature_or_a_symmetric_algorithm_is_refused(
    jwks: Jwks, verifier: OidcVerifier, service: AuthService
) -> None:
    forged = token(new_key("k1"))  # same key id, another key
    with pytest.raises(Unauthenticated):
        await service.oidc_principal(verifier, forged, "h")
    hmac = token(OctKey.generate_key(256, parameters={"kid": "k1"}), alg="HS256")
    with pytest.raises(Unauthenticated):
        await service.oidc_principal(verifier, hmac, "h")
    head, payload, _ = token(jwks.keys[0]).split(".")
    with pytest.raises(Unauthenticated):
        await service.oidc_principal(verifier, f"{head}.{payload}.", "h")
    with pytest.raises(ValueError, match="not allowed"):
        OidcConfig(issuer=ISSUER, audience=AUDIENCE, jwks_url="x", group_roles={}, algorithms=["HS256"])


async def test_an_identity_without_a_mapped_group_is_forbidden(jwks: Jwks, verifier: OidcVerifier) -> None:
    with pytest.raises(Forbidden, match="no factorytwin role"):
        await verifier.verify(token(jwks.keys[0], groups=["cafeteria"]))


async def test_a_rotated_provider_key_is_fetched_when_a_token_names_it(jwks: Jwks, verifier: OidcVerifier) -> None:
    await verifier.verify(token(jwks.keys[0]))
    jwks.keys = [new_key("k2")]
    principal = await verifier.verify(token(jwks.keys[0]))
    assert principal.name == "oidc:olga"
    assert jwks.hits == 2


async def test_bearer_jwts_go_to_the_verifier_and_an_unreachable_jwks_is_503_not_401(
    jwks: Jwks, verifier: OidcVerifier, backend_store: Store, clock: Clock
) -> None:
    service = AuthService(auth_store_for(backend_store), passwords=cheap_passwords(), now=clock.now, oidc=verifier)
    principal = await service.bearer_principal(token(jwks.keys[0]), "h")
    assert principal.role is Role.ENGINEER
    jwks.stop()
    cold = OidcVerifier(verifier.config)
    try:
        with pytest.raises(ServiceUnavailable):
            await cold.verify(token(jwks.keys[0]))
    finally:
        await cold.close()
