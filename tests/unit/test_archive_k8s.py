"""The archive replay's RayJob (k8s/replay): valid, offline, down to its pod templates, which
the vendored RayJob schema leaves open; it runs a real `dozor replay` on the pinned Ray, and
its pods are as locked down as the rest of the deployment."""

from __future__ import annotations

import json
import shlex
from typing import Any

import kubernetes_validate
import pytest
import ray
import typer

from dozor.settings import Settings
from dozor_cli.cli import app
from tests.unit.test_k8s import K8S, KUBERNETES_VERSION, _problems, render

Doc = dict[str, Any]


def _rayjob() -> Doc:
    (job,) = [d for d in render(K8S / "replay") if d["kind"] == "RayJob"]
    return job


def _templates() -> dict[str, Doc]:
    spec = _rayjob()["spec"]
    cluster = spec["rayClusterSpec"]
    return {
        "head": cluster["headGroupSpec"]["template"],
        **{g["groupName"]: g["template"] for g in cluster["workerGroupSpecs"]},
        "submitter": spec["submitterPodTemplate"],
    }


def test_the_vendored_schema_catches_a_typo_and_a_wrong_type() -> None:
    job = json.loads(json.dumps(_rayjob()))
    assert _problems(job) == []
    job["spec"]["entrypont"] = job["spec"].pop("entrypoint")
    job["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["replicas"] = "4"
    assert len(_problems(job)) == 2


@pytest.mark.parametrize("name", ["head", "replay", "submitter"])
def test_each_pod_template_is_a_valid_kubernetes_pod_template(name: str) -> None:
    template = {
        "apiVersion": "v1",
        "kind": "PodTemplate",
        "metadata": {"name": f"dozor-replay-{name}"},
        "template": _templates()[name],
    }
    kubernetes_validate.validate(template, KUBERNETES_VERSION, strict=True)


def test_the_entrypoint_is_a_dozor_replay_of_a_manifest() -> None:
    words = shlex.split(_rayjob()["spec"]["entrypoint"])
    assert words[:2] == ["dozor", "replay"] and words[2].endswith(".csv")
    replay = getattr(typer.main.get_command(app), "commands", {})["replay"]
    # Parses as the command line would: an unknown option or a missing argument raises.
    replay.make_context("replay", words[2:])


def test_the_cluster_runs_the_ray_the_project_pins() -> None:
    assert _rayjob()["spec"]["rayClusterSpec"]["rayVersion"] == ray.__version__


def test_every_dozor_variable_is_a_setting() -> None:
    fields = {f"DOZOR_{name.upper()}" for name in Settings.model_fields}
    named = {
        e["name"]
        for t in _templates().values()
        for c in t["spec"]["containers"]
        for e in c.get("env", [])
        if e["name"].startswith("DOZOR_")
    }
    assert named and named <= fields, named - fields


@pytest.mark.parametrize("name", ["head", "replay", "submitter"])
def test_pods_run_as_non_root_without_privileges_within_limits(name: str) -> None:
    pod = _templates()[name]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    assert pod["automountServiceAccountToken"] is False
    for c in pod["containers"]:
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert {"cpu", "memory"} <= c["resources"]["requests"].keys()
        assert "memory" in c["resources"]["limits"]


def test_ray_pods_reach_each_other_and_only_the_head_and_workers_the_services() -> None:
    docs = render(K8S / "replay")
    (policy,) = [d["spec"] for d in docs if d["kind"] == "NetworkPolicy"]
    templates = _templates()
    for t in templates.values():
        labels = t["metadata"]["labels"]
        assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    # The submitter only submits; the head (driver) and workers reach PostgreSQL, Kafka, S3.
    clients = ("dozor.io/db-client", "dozor.io/kafka-client", "dozor.io/s3-client")
    for name, t in templates.items():
        labels = t["metadata"]["labels"]
        assert all(labels.get(k) == ("true" if name != "submitter" else None) for k in clients)
