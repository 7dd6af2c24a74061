"""The k8s manifests stay true to the code: commands, settings and topics they name exist."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
import yaml

from contract import topics
from dozor.cli import app
from dozor.settings import Settings

K8S = Path(__file__).parents[2] / "k8s"


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _all_docs() -> list[dict]:
    return [doc for f in sorted(K8S.rglob("*.yaml")) for doc in _docs(f)]


@pytest.mark.parametrize("kustomization", sorted(K8S.rglob("kustomization.yaml")), ids=str)
def test_kustomizations_name_files_that_exist(kustomization: Path) -> None:
    spec = _docs(kustomization)[0]
    for ref in spec.get("resources", []) + [
        p["path"] for p in spec.get("patches", []) if "path" in p
    ]:
        assert (kustomization.parent / ref).exists(), f"{kustomization}: {ref} is missing"


def _containers() -> list[dict]:
    out = []
    for doc in _all_docs():
        pod = doc.get("spec", {}).get("template", {}).get("spec", {})
        out += [c for c in pod.get("containers", []) if "args" in c]
    return out


def test_every_container_runs_a_real_dozor_command() -> None:
    group = typer.main.get_command(app)
    containers = _containers()
    assert len(containers) >= 5
    for c in containers:
        cmd = group
        for word in c["args"]:
            subcommands = getattr(cmd, "commands", {})
            assert word in subcommands, f"{c['name']}: no command {word!r} in {c['args']}"
            cmd = subcommands[word]
        assert not hasattr(cmd, "commands"), f"{c['name']}: {c['args']} is not a command"


def test_every_dozor_variable_is_a_setting() -> None:
    fields = {f"DOZOR_{name.upper()}" for name in Settings.model_fields}
    named = set()
    for doc in _all_docs():
        if doc.get("kind") == "ConfigMap":
            named |= {k for k in doc["data"] if k.startswith("DOZOR_")}
    for c in _containers():
        named |= {e["name"] for e in c.get("env", []) if e["name"].startswith("DOZOR_")}
    assert named and named <= fields, named - fields


def test_kafka_topics_match_the_contract() -> None:
    declared = {
        d["metadata"]["name"]: d["spec"]["partitions"]
        for d in _all_docs()
        if d.get("kind") == "KafkaTopic"
    }
    assert declared == topics.PARTITIONS
