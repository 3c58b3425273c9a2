"""``profile_store_for(store)``: the ``ProfileStore`` keeping versioned machine profiles beside a ``Store``.

The profile tables live in the store's own database (created by its migrations, bundled profiles seeded at open).
"""

from __future__ import annotations

from factorytwin.profiles.storage import ProfileStore
from factorytwin.store.base import Store


def profile_store_for(store: Store) -> ProfileStore:
    """The profile store sharing ``store``'s database and connections; ``store`` must be open to use it."""
    from factorytwin.store.postgres import PostgresStore
    from factorytwin.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        from factorytwin.store.profiles_sqlite import SQLiteProfileStore

        return SQLiteProfileStore(store)
    if isinstance(store, PostgresStore):
        from factorytwin.store.profiles_postgres import PostgresProfileStore

        return PostgresProfileStore(store)
    raise TypeError(f"no profile store for the {store.backend!r} backend")
