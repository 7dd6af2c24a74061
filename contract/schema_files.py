"""JSON Schema files generated from the models, checked in beside them.

``dozor schema export`` rewrites them; a test fails when a model and its file disagree, so a
contract change is always a visible diff that consumers in other languages can pick up.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from contract.events import SCHEMA_VERSION, DetectionEvent
from contract.health import HEALTH_SCHEMA_VERSION, Heartbeat
from contract.scene import SceneConfig

SCHEMA_DIR = Path(__file__).parent / "schemas"

MODELS: dict[str, type[BaseModel]] = {
    f"detection-event.v{SCHEMA_VERSION}.json": DetectionEvent,
    "scene-config.v1.json": SceneConfig,
    f"heartbeat.v{HEALTH_SCHEMA_VERSION}.json": Heartbeat,
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
