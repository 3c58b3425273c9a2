"""Optional single sign-on: OpenID Connect ID/access tokens (JWTs) from the plant's identity provider.

A token is accepted when its signature verifies against the provider's JWKS (fetched over HTTPS, cached, fetched
again when a token names a key id not in the cache — the provider rotated its keys), its algorithm is one allowed
(never ``none`` nor an HMAC one, which would let a public key sign), and its ``iss``, ``aud``, ``exp`` and ``nbf``
claims are right. Its groups map to a factorytwin role (the highest wins); a valid identity with no mapped group is
refused with 403.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry
from pydantic import BaseModel, Field, ValidationError

from factorytwin.auth.errors import Forbidden
from factorytwin.auth.models import Principal, PrincipalKind
from factorytwin.auth.roles import Role
from factorytwin.errors import ServiceUnavailable

ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class OidcConfig(BaseModel):
    """Where the identity provider is and how its identities become factorytwin roles."""

    issuer: str = Field(min_length=1, description="the exact 'iss' of the provider's tokens")
    audience: str = Field(min_length=1, description="the 'aud' the tokens must carry (factorytwin's client id)")
    jwks_url: str = Field(min_length=1, description="the provider's JWKS document (jwks_uri)")
    group_roles: dict[str, Role] = Field(description="group (or role) name in the token -> factorytwin role")
    groups_claim: str = "groups"
    username_claim: str = "preferred_username"
    algorithms: list[str] = Field(default=["RS256", "ES256"])
    leeway_s: int = Field(default=60, ge=0, description="clock skew allowed on exp/nbf")
    jwks_ttl_s: float = Field(default=300.0, gt=0, description="how long a fetched JWKS is used")
    refetch_min_s: float = Field(
        default=30.0, ge=0, description="an unknown key id fetches the JWKS again at most this often"
    )

    def model_post_init(self, _: object) -> None:
        """Refuse algorithms that are not asymmetric (``none``, HS256: a public key must not sign)."""
        bad = [a for a in self.algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if bad:
            raise ValueError(f"algorithms: {bad} are not allowed; use asymmetric ones such as RS256 or ES256")


class InvalidOidcToken(Exception):
    """A token that does not verify; the message is for the audit trail, not for the caller."""


class OidcVerifier:
    """Verifies provider-issued JWTs and maps them to a ``Principal``."""

    def __init__(
        self, config: OidcConfig, client: httpx.AsyncClient | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self.client = client or httpx.AsyncClient(timeout=5.0)
        self.clock = clock
        self._keys: KeySet | None = None
        self._fetched_at = float("-inf")

    async def _fetch(self) -> KeySet:
        try:
            response = await self.client.get(self.config.jwks_url)
            response.raise_for_status()
            keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, JoseError) as exc:
            raise ServiceUnavailable(f"the identity provider's JWKS cannot be read: {type(exc).__name__}") from None
        self._keys, self._fetched_at = keys, self.clock()
        return keys

    async def _key_set(self, refresh: bool) -> KeySet:
        age = self.clock() - self._fetched_at
        if self._keys is None or age >= self.config.jwks_ttl_s or (refresh and age >= self.config.refetch_min_s):
            return await self._fetch()
        return self._keys

    async def verify(self, token: str) -> Principal:
        """The principal of a valid token; ``InvalidOidcToken`` (why) or ``Forbidden`` (no mapped role)."""
        try:
            decoded = jwt.decode(token, await self._key_set(refresh=False), algorithms=self.config.algorithms)
        except JoseError as exc:
            # Only key errors (MissingKeyError: no key with the token's kid, ...) may mean rotation; a bad signature
            # or algorithm never triggers a fetch, and fetches are rate-limited by refetch_min_s anyway.
            if "key" not in type(exc).__name__.lower():
                raise InvalidOidcToken(f"{type(exc).__name__}: {exc}") from None
            try:  # a key id we do not know: the provider may have rotated its keys
                decoded = jwt.decode(token, await self._key_set(refresh=True), algorithms=self.config.algorithms)
            except JoseError as again:
                raise InvalidOidcToken(f"{type(again).__name__}: {again}") from None
        except ValueError as exc:  # not a JWT at all
            raise InvalidOidcToken(f"malformed token: {exc}") from None
        registry = JWTClaimsRegistry(
            now=lambda: int(self.clock()),
            leeway=self.config.leeway_s,
            iss={"essential": True, "value": self.config.issuer},
            aud={"essential": True, "value": self.config.audience},
            exp={"essential": True},
        )
        try:
            registry.validate(decoded.claims)
        except JoseError as exc:
            raise InvalidOidcToken(f"{type(exc).__name__}: {exc}") from None
        claims = decoded.claims
        name = claims.get(self.config.username_claim) or claims.get("sub")
        if not isinstance(name, str) or not name:
            raise InvalidOidcToken(f"no {self.config.username_claim!r} or 'sub' claim")
        groups = claims.get(self.config.groups_claim) or []
        if isinstance(groups, str):
            groups = [groups]
        roles = [self.config.group_roles[g] for g in groups if isinstance(g, str) and g in self.config.group_roles]
        if not roles:
            raise Forbidden("no factorytwin role is mapped to this identity's groups")
        try:
            return Principal(kind=PrincipalKind.OIDC, name=f"oidc:{name}"[:200], role=max(roles, key=lambda r: r.rank))
        except ValidationError as exc:
            raise InvalidOidcToken(str(exc)) from None

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()
