"""Bringing the registry's database to life: once per rollout, never in a running process.

``dozor registry migrate`` (the Kubernetes migrate Job), ``dozor setup``, the demo and the
test fixtures call this; the API, workers and consumers only check it was done (``/readyz``).
"""

from __future__ import annotations

from dozor.settings import Settings
from registry.db import migrate, session_scope
from registry.seed import seed_if_empty


def prepare_database(settings: Settings) -> None:
    """Migrate to the newest schema and seed the roster into an empty registry."""
    migrate(settings.db_url)
    with session_scope(settings.db_url) as session:
        seed_if_empty(session)
