"""``auth_store_for(store)``: the ``AuthStore`` that keeps users, credentials and the audit trail beside a ``Store``.

The auth tables live in the store's own database (created by its migrations), so one URL configures both.
"""

from __future__ import annotations

from factorytwin.auth.storage import AuthStore
from factorytwin.store.base import Store


def auth_store_for(store: Store) -> AuthStore:
    """The auth store sharing ``store``'s database and connections; ``store`` must be open to use it."""
    from factorytwin.store.postgres import PostgresStore
    from factorytwin.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        from factorytwin.store.auth_sqlite import SQLiteAuthStore

        return SQLiteAuthStore(store)
    if isinstance(store, PostgresStore):
        from factorytwin.store.auth_postgres import PostgresAuthStore

        return PostgresAuthStore(store)
    raise TypeError(f"no auth store for the {store.backend!r} backend")
