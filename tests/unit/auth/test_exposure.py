"""``serve`` must refuse to listen beyond loopback while no user or token exists."""

from __future__ import annotations

import pytest

from factorytwin.auth.exposure import exposure_problem, is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_addresses(host: str) -> None:
    assert is_loopback(host)
    assert exposure_problem(host, auth_configured=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "factory.example", ""])
def test_anything_else_is_exposed_and_refused_without_auth(host: str) -> None:
    assert not is_loopback(host)
    problem = exposure_problem(host, auth_configured=False)
    assert problem is not None
    assert "factorytwin users add" in problem
    assert exposure_problem(host, auth_configured=True) is None
