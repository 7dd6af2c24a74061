"""Everything a deployment needs before its services start: the registry's schema and seed,
the Kafka topics (partitions and replication from the settings) and the evidence bucket.

Run by ``dozor setup``, the demo and the test fixtures; ``dozor registry migrate`` does the
database part alone. No API, worker or consumer does any of it at start-up.
"""

from __future__ import annotations

from dozor import bus
from dozor.settings import Settings
from dozor.storage import ObjectStore
from evidence.signing import load_signer
from registry.audit import Actor
from registry.auth import Role
from registry.bootstrap import prepare_database
from registry.db import session_scope
from registry.detector_keys import KeyScope, enroll

SETUP = Actor("dozor setup", Role.ADMIN)


def set_up(settings: Settings) -> None:
    prepare_database(settings)
    bus.ensure_topics(settings)
    ObjectStore(settings).ensure()
    if settings.env != "production":
        # Development keeps its keys in the state directory: made here, so that the API
        # finds the public key before any consumer has started, and the local worker (the
        # demo's replays) is enrolled; production enrols each worker with
        # `dozor detector enroll`.
        load_signer(settings)
        with session_scope(settings.db_url) as session:
            enroll(session, SETUP, settings, settings.worker_id, KeyScope.REPLAY)
