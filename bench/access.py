"""Credentials for the benches: every route but /health needs one, so a bench makes an API token in the server's
database before it starts the server, exactly as an operator would with `factorytwin tokens create`."""

from __future__ import annotations

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.credentials

from factorytwin.auth import Role
from tests.credentials import token_for


def bearer_headers(database_url: str, role: Role = Role.ADMIN) -> dict[str, str]:
    """``Authorization`` headers of a new token of ``role`` in the database at ``database_url`` (migrated if new).

    Safe to call with or without a running event loop (the token is made in a thread of its own)."""
    with ThreadPoolExecutor(1) as pool:
        secret = pool.submit(asyncio.run, token_for(database_url, role)).result()
    return {"Authorization": f"Bearer {secret}"}
