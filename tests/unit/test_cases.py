"""Cases: the enforceability rule, the versioned model and its schema file, HTTP delivery."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import httpx
import jsonschema
import pytest
from pydantic import ValidationError

from consumers.delivery import (
    CaseDelivery,
    DeliveryRefused,
    DeliveryUnavailable,
)
from consumers.enforcement import not_enforceable_reason
from consumers.loop import PoisonMessage
from contract.cases import (
    Case,
    CaseEvidence,
    CaseLocation,
    CaseManifest,
    CaseUnit,
    case_id_for,
)
from contract.events import EvidenceRole
from contract.manifest import CameraInfo, CertificateInfo, Manifest
from contract.schema_files import SCHEMA_DIR
from dozor.settings import Settings
from tests.unit.test_contract import sample_event

SHA = "b" * 64


NOV = datetime(2026, 11, 26, 12, tzinfo=UTC)


def manifest(
    kind: str = "enforcement_unit",
    certificate: str | None = "C-1",
    valid_until: date | None = date(2027, 9, 22),
    codes: tuple[str, ...] = ("C1", "C12"),
    gost_code: str | None = "C12",
) -> Manifest:
    """A manifest as the evidence consumer signs it, certificate flags computed as it does."""
    event = sample_event()
    return Manifest(
        event_id=event.id,
        event_sha256=SHA,
        type=event.type,
        category=event.data.category,
        gost_code=gost_code,
        params={},
        measured={},
        camera=CameraInfo(id="VLG-ENF-001", kind=kind, name="u", address=None, lat=48.7, lon=44.5),
        event_time=NOV,
        time_source="test",
        signed_at=NOV,
        scene_version=1,
        detector=event.data.detector,
        signer_software_version="test",
        source_uri="file:///x",
        certificate=CertificateInfo(
            certificate=certificate,
            valid_until=valid_until,
            valid_at_event=bool(certificate and valid_until and NOV.date() <= valid_until),
            type_approval_number="51578-12",
            certified_codes=list(codes),
            code_certified=None if gost_code is None else gost_code in codes,
        ),
        artifacts=[],
    )


@pytest.mark.parametrize(
    ("signed", "reason"),
    [
        (manifest(), None),
        (manifest(valid_until=date(2026, 11, 26)), None),
        (manifest(kind="street_camera"), "street_camera, not a certified"),
        (manifest(certificate=None), "no verification certificate"),
        (manifest(valid_until=None), "no verification certificate"),
        (manifest(valid_until=date(2026, 11, 25)), "expired on 2026-11-25"),
        (manifest(gost_code=None), "no GOST code"),
        (manifest(codes=("C1",)), "not certified for C12 (certified: C1)"),
        (manifest(codes=()), "not certified for C12"),
    ],
)
def test_enforceable_only_from_a_verified_unit_certified_for_the_code(
    signed: Manifest, reason: str | None
) -> None:
    got = not_enforceable_reason(signed)
    if reason is None:
        assert got is None
    else:
        assert got is not None and reason in got


def sample_case(**overrides: object) -> Case:
    eid = "5d0f6a3e-0000-4000-8000-000000000001"
    expires = NOV + timedelta(days=7)
    values: dict[str, object] = {
        "case_id": case_id_for(eid),
        "event_id": eid,
        "built_at": NOV,
        "location": CaseLocation(camera_id="VLG-ENF-001", name="u", lat=48.7, lon=44.5),
        "unit": CaseUnit(
            kind="enforcement_unit",
            type_approval_number="51578-12",
            verification_certificate="C-1",
            verification_valid_until=date(2027, 9, 22),
            certified_codes=["C12"],
        ),
        "gost_code": "C12",
        "violation_type": "red_light",
        "time": NOV,
        "confidence": 0.8,
        "measured": {"red_for_s": 2.5, "plate": "А123ВС134"},
        "plate": "А123ВС134",
        "evidence": [
            CaseEvidence(
                role=EvidenceRole.OVERVIEW,
                content_type="image/jpeg",
                sha256=SHA,
                size=10,
                bucket="evidence",
                key="k.jpg",
                url="http://s3/k.jpg?X-Amz-Signature=x",
                url_expires_at=expires,
            )
        ],
        "manifest": CaseManifest(
            key="manifests/x.json",
            sha256=SHA,
            url="http://s3/m",
            url_expires_at=expires,
            key_id=SHA,
        ),
        "detector": sample_event().data.detector,
        "enforceable": True,
    }
    values.update(overrides)
    return Case.model_validate(values)


def test_case_round_trips_and_validates_against_its_schema_file() -> None:
    case = sample_case()
    assert Case.model_validate_json(case.model_dump_json()) == case
    schema = json.loads((SCHEMA_DIR / "case.v1.json").read_text())
    jsonschema.validate(json.loads(case.model_dump_json()), schema)
    refused = sample_case(enforceable=False, reason="unit X is not certified for C12")
    jsonschema.validate(json.loads(refused.model_dump_json()), schema)


def test_case_id_is_deterministic_from_the_event_id() -> None:
    assert case_id_for("e1") == case_id_for("e1") != case_id_for("e2")
    with pytest.raises(ValidationError, match="case_id"):
        sample_case(case_id=case_id_for("another event"))


def test_reason_is_required_exactly_when_not_enforceable() -> None:
    with pytest.raises(ValidationError, match="reason"):
        sample_case(enforceable=False)
    with pytest.raises(ValidationError, match="reason"):
        sample_case(reason="why not")


# -- delivery ---------------------------------------------------------------------------


def delivery(
    answers: list[int | Exception], **settings: object
) -> tuple[CaseDelivery, list[httpx.Request], list[float]]:
    requests: list[httpx.Request] = []
    slept: list[float] = []
    queue = list(answers)

    def respond(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        headers = {"Retry-After": "3"} if answer == 429 else {}
        return httpx.Response(answer, headers=headers, text="nope" if answer >= 400 else "")

    values: dict[str, object] = {
        "enforcement_endpoint": "http://receiver.test/cases",
        "delivery_attempts": 4,
        "delivery_backoff_s": 0.5,
        "delivery_backoff_max_s": 30,
    }
    values.update(settings)
    client = httpx.Client(transport=httpx.MockTransport(respond))
    return (
        CaseDelivery(Settings(**values), client=client, sleep=slept.append),  # type: ignore[arg-type]
        requests,
        slept,
    )


def test_retries_5xx_and_connection_errors_then_delivers_with_the_idempotency_key() -> None:
    d, requests, slept = delivery([500, httpx.ConnectError("refused"), 503, 201])
    case = sample_case()
    assert d.deliver(case).attempts == 4
    assert {r.headers["Idempotency-Key"] for r in requests} == {case.case_id}
    assert all(json.loads(r.content)["case_id"] == case.case_id for r in requests)
    assert requests[0].headers["X-Dozor-Case-Schema"] == "1"
    assert "Authorization" not in requests[0].headers
    assert len(slept) == 3
    assert all(0 <= s <= 0.5 * 2**i for i, s in enumerate(slept))


def test_conflict_means_already_delivered() -> None:
    d, _, _ = delivery([409])
    assert d.deliver(sample_case()).status == 409


def test_a_4xx_refusal_is_poison_and_not_retried() -> None:
    d, requests, _ = delivery([422, 201])
    with pytest.raises(DeliveryRefused, match="422") as info:
        d.deliver(sample_case())
    assert isinstance(info.value, PoisonMessage)
    assert len(requests) == 1


def test_gives_up_for_now_after_the_configured_attempts_honouring_retry_after() -> None:
    d, requests, slept = delivery([429, 500], delivery_attempts=2, enforcement_token="s3cret")
    with pytest.raises(DeliveryUnavailable, match="after 2 attempts") as info:
        d.deliver(sample_case())
    assert info.value.attempts == 2
    assert slept == [3.0]
    assert requests[0].headers["Authorization"] == "Bearer s3cret"
    assert "s3cret" not in str(info.value)


def test_delivery_needs_an_endpoint() -> None:
    with pytest.raises(ValueError, match="DOZOR_ENFORCEMENT_ENDPOINT"):
        CaseDelivery(Settings(enforcement_endpoint=None))
