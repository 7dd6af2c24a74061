"""Every endpoint documents its bodies with examples, and every example is valid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from dozor.settings import Settings
from registry.app import create_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return create_app(Settings(state_dir=tmp_path_factory.mktemp("openapi")))


def _has_example(media: dict[str, Any], components: dict[str, Any]) -> bool:
    if "example" in media or "examples" in media:
        return True
    schema = media.get("schema", {})
    if schema.get("type") == "array":  # a list of models is exemplified by its items
        schema = schema["items"]
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return "examples" in schema or "example" in schema


def test_every_operation_has_examples_for_its_json_bodies(app) -> None:  # type: ignore[no-untyped-def]
    spec = app.openapi()
    components = spec["components"]["schemas"]
    missing = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            bodies = [("request", op.get("requestBody", {}).get("content", {}))] + [
                (f"response {code}", r.get("content", {}))
                for code, r in op["responses"].items()
                if code.startswith("2")
            ]
            for where, content in bodies:
                for media_type, media in content.items():
                    if "json" in media_type and not _has_example(media, components):
                        missing.append(f"{method.upper()} {path}: {where} {media_type}")
    assert missing == []


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    # Included routers appear as wrappers around their own route lists.
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += _api_routes(route.original_router.routes)
    return found


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models(arg)]


def test_every_example_validates_against_its_model(app) -> None:  # type: ignore[no-untyped-def]
    models: set[type[BaseModel]] = set()
    for route in _api_routes(app.routes):
        models.update(_models(route.response_model))
        if route.body_field is not None:
            models.update(_models(route.body_field.field_info.annotation))
    checked = 0
    for model in models:
        model.model_json_schema()  # runs the schema hooks that fill in generic examples
        extra = model.model_config.get("json_schema_extra")
        examples = extra.get("examples", []) if isinstance(extra, dict) else []
        if not examples:
            examples = model.model_json_schema().get("examples", [])
        for example in examples:
            model.model_validate(example)
            checked += 1
    assert checked >= 10, Path(__file__).name
