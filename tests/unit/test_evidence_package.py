"""Evidence packages with fakes: clip encoding, photos, plates, manifest signing, verification."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import av
import jsonschema
import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from minio.error import S3Error

from contract.events import EventType, EvidenceRole
from contract.manifest import Artifact, canonical_json, manifest_key
from contract.schema_files import SCHEMA_DIR
from detectors.backends.base import Detection
from detectors.frame_ring import BufferedFrame
from detectors.plates import PlateReading
from detectors.sources import Frame
from dozor.errors import UserError
from dozor.settings import Settings
from dozor.storage import Fetched, ObjectVersion, StoredObject, sha256_hex
from evidence.capture import EvidenceWriter, encode_clip, with_min_photos
from evidence.manifest import build_manifest, certificate_info, event_sha256, sign_manifest
from evidence.signing import load_signer, load_verifier
from evidence.verify import EventNotFound, parse_signed, verify_event
from registry.models import Camera, EventRecord
from tests.unit.test_contract import sample_event, sample_scene

SIGNED_AT = datetime(2026, 11, 26, 12, 0, 5, tzinfo=UTC)


@dataclass
class FakeStore:
    """In-memory versioned bucket: a put adds a version, as under object lock."""

    bucket: str = "evidence"
    objects: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        versions = self.objects.setdefault(key, [])
        versions.append((f"v{len(versions) + 1}", data))
        return StoredObject(
            self.bucket, key, sha256_hex(data), len(data), content_type, f"v{len(versions)}"
        )

    def fetch(self, bucket: str, key: str, version_id: str | None = None) -> Fetched:
        for vid, data in reversed(self.objects.get(key, [])):
            if version_id in (None, vid):
                return Fetched(data, vid)
        code = "NoSuchVersion" if version_id else "NoSuchKey"
        raise S3Error(None, code, "gone", key, "r", None)  # type: ignore[arg-type]

    def get(self, bucket: str, key: str, version_id: str | None = None) -> bytes:
        return self.fetch(bucket, key, version_id).data

    def exists(self, bucket: str, key: str) -> bool:
        return bool(self.objects.get(key))

    def versions(self, bucket: str, key: str) -> list[ObjectVersion]:
        return [ObjectVersion(vid, False) for vid, _ in self.objects.get(key, [])]


def camera(valid_until: date | None = date(2027, 1, 1)) -> Camera:
    return Camera(
        id="VLG-ENF-001",
        kind="enforcement",
        name="Unit 1",
        address="пр. Ленина, 1",
        lat=48.7,
        lon=44.5,
        verification_certificate="С-ВЯ/01-01-2026/1",
        verification_valid_until=valid_until,
        type_approval_number="RU.C.28.001.A №1",
        certified_codes=["C12", "C2"],
    )


@pytest.fixture
def signer(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_signer(Settings(state_dir=tmp_path))


def packaged(store: FakeStore, signer) -> EventRecord:  # type: ignore[no-untyped-def]
    """Store a sample event's artifacts and signed manifest; return its index row."""
    event = sample_event()
    stored = store.put("VLG-ENF-001/x/overview.jpg", b"\xff\xd8\xff photo", "image/jpeg")
    ref = event.data.evidence[0].model_copy(update={"sha256": stored.sha256, "size": stored.size})
    event = event.model_copy(update={"data": event.data.model_copy(update={"evidence": [ref]})})
    art = Artifact(version_id=stored.version_id, **ref.model_dump())
    manifest = build_manifest(event, camera(), [art], SIGNED_AT)
    store.put(manifest_key(event.subject, event.id), sign_manifest(manifest, signer), "x")
    return EventRecord(id=event.id, camera_id=event.subject, payload=event.model_dump(mode="json"))


# --- signing keys ---------------------------------------------------------------------------


def test_generated_key_is_private_persistent_and_fingerprinted(tmp_path: Path) -> None:
    first = load_signer(Settings(state_dir=tmp_path))
    again = load_signer(Settings(state_dir=tmp_path))
    assert first.key_id == again.key_id and len(first.key_id) == 64
    pem, public = tmp_path / "signing" / "ed25519.pem", tmp_path / "signing" / "ed25519.pub.pem"
    assert os.stat(pem).st_mode & 0o077 == 0
    assert load_signer(Settings(state_dir=tmp_path / "other")).key_id != first.key_id
    # Verify-only processes of the demo load the public key written beside it.
    assert load_verifier(Settings(state_dir=tmp_path)).key_id == first.key_id
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")


def test_a_verifier_never_generates_a_key(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_verifier(Settings(state_dir=tmp_path))
    assert not tmp_path.joinpath("signing").exists()


def test_configured_key_that_is_missing_or_not_ed25519_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_signer(Settings(state_dir=tmp_path, signing_key_path=tmp_path / "nope.pem"))
    ec = tmp_path / "ec.pem"
    ec.write_bytes(
        generate_private_key(SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(UserError, match="not an Ed25519 key"):
        load_signer(Settings(state_dir=tmp_path, signing_key_path=ec))


# --- manifest -------------------------------------------------------------------------------


def test_manifest_carries_what_an_enforcement_centre_checks(signer) -> None:  # type: ignore[no-untyped-def]
    store = FakeStore()
    row = packaged(store, signer)
    data = store.get("evidence", manifest_key(row.camera_id, row.id))
    raw = json.loads(data)
    jsonschema.validate(raw, json.loads((SCHEMA_DIR / "evidence-manifest.v1.json").read_text()))
    signed, problems = parse_signed(data, signer.verifier)
    assert problems == [] and signed is not None
    m = signed.manifest
    assert m.event_sha256 == sha256_hex(canonical_json(row.payload))
    assert m.camera.address == "пр. Ленина, 1" and m.gost_code == "C12"
    assert m.certificate.valid_at_event and m.certificate.code_certified
    assert m.event_time.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert m.time_source.startswith("recording start")
    assert m.detector.model_sha256 and m.artifacts[0].version_id == "v1"
    assert signed.signature.key_id == signer.key_id


def test_certificate_expired_before_the_event_is_marked_invalid() -> None:
    event = sample_event()  # 2026-11-26
    assert not certificate_info(camera(date(2026, 11, 25)), event).valid_at_event
    assert certificate_info(camera(date(2026, 11, 26)), event).valid_at_event
    assert not certificate_info(camera(None), event).valid_at_event


def test_one_changed_byte_in_the_manifest_breaks_the_signature(signer) -> None:  # type: ignore[no-untyped-def]
    store = FakeStore()
    row = packaged(store, signer)
    data = store.get("evidence", manifest_key(row.camera_id, row.id))
    tampered = data.replace(b'"red_for_s": 2.5', b'"red_for_s": 3.5')
    assert tampered != data
    _, problems = parse_signed(tampered, signer.verifier)
    assert problems == ["manifest signature is invalid: the manifest changed after signing"]


def test_a_different_key_is_named(signer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = FakeStore()
    row = packaged(store, signer)
    other = load_signer(Settings(state_dir=tmp_path / "other")).verifier
    _, problems = parse_signed(store.get("evidence", manifest_key(row.camera_id, row.id)), other)
    assert len(problems) == 1
    assert signer.key_id in problems[0] and other.key_id in problems[0]


# --- verification ---------------------------------------------------------------------------


def test_intact_package_verifies(signer) -> None:  # type: ignore[no-untyped-def]
    store = FakeStore()
    row = packaged(store, signer)
    report = verify_event(row, store, signer.verifier, row.id)
    assert report.ok and report.problems == []
    assert len(report.checked) == 2  # manifest + overview


def test_overwritten_object_fails_naming_it(signer) -> None:  # type: ignore[no-untyped-def]
    store = FakeStore()
    row = packaged(store, signer)
    store.put("VLG-ENF-001/x/overview.jpg", b"\xff\xd8\xff phot0", "image/jpeg")
    report = verify_event(row, store, signer.verifier, row.id)
    assert not report.ok
    assert report.problems == [
        "evidence/VLG-ENF-001/x/overview.jpg has a second version v2: written over after signing"
    ]


def test_missing_object_and_altered_index_fail(signer) -> None:  # type: ignore[no-untyped-def]
    store = FakeStore()
    row = packaged(store, signer)
    del store.objects["VLG-ENF-001/x/overview.jpg"]
    row.payload["data"]["measured"]["red_for_s"] = 9.9
    report = verify_event(row, store, signer.verifier, row.id)
    assert report.problems == [
        "the indexed event differs from the signed event",
        "overview evidence/VLG-ENF-001/x/overview.jpg version v1 is missing (NoSuchVersion)",
    ]


def test_missing_manifest_and_unknown_event(signer) -> None:  # type: ignore[no-untyped-def]
    store = FakeStore()
    row = packaged(store, signer)
    del store.objects[manifest_key(row.camera_id, row.id)]
    report = verify_event(row, store, signer.verifier, row.id)
    assert not report.ok and "is missing (NoSuchKey)" in report.problems[0]
    with pytest.raises(EventNotFound):
        verify_event(None, store, signer.verifier, "nope")


# --- capture --------------------------------------------------------------------------------


def buffered(
    index: int, box: tuple[float, float, float, float] | None, size=(352, 640)
) -> BufferedFrame:  # type: ignore[no-untyped-def]
    image = np.full((*size, 3), index % 255, np.uint8)
    dets = (Detection(7, "car", 0.9, box),) if box else ()
    return BufferedFrame(Frame(index, index / 24, image), dets)


def test_clip_is_browser_playable_h264_scaled_to_even_size() -> None:
    images = [np.random.default_rng(i).integers(0, 255, (301, 1001, 3), np.uint8) for i in range(8)]
    data = encode_clip(images, 24.02, 640)
    assert data.index(b"moov") < data.index(b"mdat")  # faststart: playable while downloading
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == (640, 192)
        assert sum(1 for _ in container.decode(stream)) == 8


def test_speeding_gets_two_photos_of_the_vehicle() -> None:
    window = [buffered(i, (100 + i, 100, 200 + i, 180) if 2 <= i <= 8 else None) for i in range(10)]
    frames = {EvidenceRole.OVERVIEW: window[5]}
    two = with_min_photos(frames, window, 7, 2)
    assert [(r, b.frame.index) for r, b in two.items()] == [
        (EvidenceRole.BEFORE, 2),
        (EvidenceRole.OVERVIEW, 5),
    ]


def reading() -> PlateReading:
    return PlateReading(
        raw="X590HP178",
        number="Х590НР",
        region="178",
        formatted="Х590НР 178",
        valid=True,
        format="ru_private",
        confidence=0.91234,
        bbox=(10, 40, 60, 55),
        engine="fake",
    )


def capture(writer: EvidenceWriter, event_type: EventType):  # type: ignore[no-untyped-def]
    window = [buffered(i, (100, 100, 300, 260)) for i in range(12)]
    rendering = writer.render(
        key_prefix="CAM/2026/e1",
        scene=sample_scene(),
        caption="test",
        event_type=event_type,
        track_id=7,
        frames={EvidenceRole.OVERVIEW: window[6]},
        window=window,
        fps=24.0,
        fallback_box=None,
    )
    return SimpleNamespace(refs=writer.put(rendering), measured=rendering.measured)


def test_violation_capture_stores_photos_plate_and_clip() -> None:
    store = FakeStore()
    seen: list[tuple[int, ...]] = []
    captured = capture(
        EvidenceWriter(store, plate_reader=lambda crop: seen.append(crop.shape) or reading()),  # type: ignore[arg-type, func-returns-value]
        EventType.SPEEDING,
    )
    roles = [r.role for r in captured.refs]
    assert roles == [
        EvidenceRole.BEFORE,
        EvidenceRole.OVERVIEW,
        EvidenceRole.CROP,
        EvidenceRole.PLATE,
        EvidenceRole.CLIP,
    ]
    assert seen == [(208, 260, 3)]  # the padded vehicle crop
    assert captured.measured == {
        "plate": "Х590НР 178",
        "plate_raw": "X590HP178",
        "plate_confidence": 0.912,
        "plate_valid": "yes",
    }
    for ref in captured.refs:
        assert sha256_hex(store.get("evidence", ref.key)) == ref.sha256
    clip = next(r for r in captured.refs if r.role is EvidenceRole.CLIP)
    assert clip.content_type == "video/mp4" and clip.key == "CAM/2026/e1/clip.mp4"


def test_no_plate_reading_and_incidents_store_no_plate() -> None:
    unread = capture(
        EvidenceWriter(FakeStore(), plate_reader=lambda crop: None), EventType.RED_LIGHT
    )
    assert EvidenceRole.PLATE not in {r.role for r in unread.refs} and unread.measured == {}

    def never(crop: np.ndarray) -> PlateReading:
        raise AssertionError("plates are read for violations only")

    incident = capture(EvidenceWriter(FakeStore(), plate_reader=never), EventType.STOPPED_VEHICLE)
    assert {r.role for r in incident.refs} == {
        EvidenceRole.OVERVIEW,
        EvidenceRole.CROP,
        EvidenceRole.CLIP,
    }


def test_event_hash_covers_measured_values() -> None:
    event = sample_event()
    changed = event.model_copy(
        update={"data": event.data.model_copy(update={"measured": {"red_for_s": 2.6}})}
    )
    assert event_sha256(event) != event_sha256(changed)


def test_verifying_processes_can_hold_the_public_key_alone(tmp_path: Path) -> None:
    signer = load_signer(Settings(state_dir=tmp_path))
    pem = tmp_path / "public.pem"
    pem.write_text(signer.verifier.public_pem())
    verifier = load_verifier(Settings(state_dir=tmp_path / "api", signing_public_key_path=pem))
    assert verifier.key_id == signer.key_id
    assert verifier.verify(signer.sign(b"manifest"), b"manifest")
    assert not (tmp_path / "api").exists()  # no private key was generated for the verifier
    private = signer.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "private.pem").write_bytes(private)
    with pytest.raises(UserError, match="not a PEM public key"):
        load_verifier(
            Settings(state_dir=tmp_path, signing_public_key_path=tmp_path / "private.pem")
        )
