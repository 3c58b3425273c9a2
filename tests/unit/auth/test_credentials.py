"""Secrets, their hashes, and Argon2id passwords."""

from __future__ import annotations

import pytest

from factorytwin.auth.credentials import (
    TOKEN_PREFIX,
    PasswordProblem,
    check_password_policy,
    new_secret,
    same_secret,
    secret_hash,
)
from tests.unit.auth.conftest import cheap_passwords


def test_a_secret_carries_its_prefix_and_32_random_bytes_and_is_stored_as_sha256() -> None:
    a, b = new_secret(TOKEN_PREFIX), new_secret(TOKEN_PREFIX)
    assert a.startswith(TOKEN_PREFIX)
    assert len(a) == len(TOKEN_PREFIX) + 43
    assert a != b
    assert len(secret_hash(a)) == 64
    assert a not in secret_hash(a)
    assert same_secret(a, secret_hash(a))
    assert not same_secret(b, secret_hash(a))


async def test_passwords_are_hashed_with_argon2id_salted_and_verified() -> None:
    pw = cheap_passwords()
    h1, h2 = await pw.hash("correct horse battery"), await pw.hash("correct horse battery")
    assert h1.startswith("$argon2id$")
    assert h1 != h2  # salted
    assert await pw.verify(h1, "correct horse battery")
    assert not await pw.verify(h1, "correct horse batterY")
    assert not await pw.verify("not a hash", "correct horse battery")
    assert not await pw.verify(None, "correct horse battery")
    assert not await pw.verify(h1, "x" * 2000)


def test_a_hash_made_with_other_parameters_needs_a_rehash() -> None:
    cheap = cheap_passwords()
    default_hash = cheap.hasher.hash("some long password")
    assert not cheap.needs_rehash(default_hash)
    assert cheap.needs_rehash("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
    assert cheap.needs_rehash("garbage")


@pytest.mark.parametrize(
    ("password", "problem"),
    [("short", "at least 10"), ("y" * 1025, "at most 1024"), ("Amir.Second", "user name")],
)
def test_the_password_policy_names_the_rule_broken(password: str, problem: str) -> None:
    with pytest.raises(PasswordProblem, match=problem):
        check_password_policy(password, "amir.second")
    check_password_policy("a decent passphrase", "amir")
