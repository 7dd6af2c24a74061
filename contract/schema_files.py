"""JSON Schema files generated from the models, checked in beside them.

``dozor schema export`` rewrites them; a test fails when a model and its file disagree, so a
contract change is always a visible diff that consumers in other languages can pick up.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from contract.cases import CASE_SCHEMA_VERSION, Case
from contract.events import SCHEMA_VERSION, DetectionEvent
from contract.health import HEALTH_SCHEMA_VERSION, Heartbeat
from contract.manifest import MANIFEST_SCHEMA_VERSION, SignedManifest
from contract.scene import SceneConfig
from contract.signals import SIGNAL_SCHEMA_VERSION, SignalState
from contract.signed import SIGNED_EVENT_SCHEMA_VERSION, SignedEvent

SCHEMA_DIR = Path(__file__).parent / "schemas"

MODELS: dict[str, type[BaseModel]] = {
    f"detection-event.v{SCHEMA_VERSION}.json": DetectionEvent,
    "scene-config.v1.json": SceneConfig,
    f"case.v{CASE_SCHEMA_VERSION}.json": Case,
    f"heartbeat.v{HEALTH_SCHEMA_VERSION}.json": Heartbeat,
    f"evidence-manifest.v{MANIFEST_SCHEMA_VERSION}.json": SignedManifest,
    f"signal-state.v{SIGNAL_SCHEMA_VERSION}.json": SignalState,
    f"signed-event.v{SIGNED_EVENT_SCHEMA_VERSION}.json": SignedEvent,
}


def render(model: type[BaseModel]) -> str:
    return (
        json.dumps(model.model_json_schema(mode="serialization"), indent=2, sort_keys=True) + "\n"
    )


def export() -> list[Path]:
    SCHEMA_DIR.mkdir(exist_ok=True)
    written = []
    for name, model in MODELS.items():
        path = SCHEMA_DIR / name
        path.write_text(render(model))
        written.append(path)
    return written


def stale() -> list[str]:
    """Names of schema files that do not match their model."""
    return [
        name
        for name, model in MODELS.items()
        if not (SCHEMA_DIR / name).exists() or (SCHEMA_DIR / name).read_text() != render(model)
    ]
