"""A finding that could not be published survives the worker: the outbox on local disk."""

from __future__ import annotations

from pathlib import Path

from contract.events import DetectionEvent
from detectors.outbox import Outbox
from detectors.pipeline import with_evidence
from evidence.capture import EvidenceWriter
from tests.unit.test_pipeline import FlakyStore, pipeline, run


def _healthy() -> DetectionEvent:
    published: list[DetectionEvent] = []
    run(pipeline(FlakyStore(failures=0), published), 60)
    (event,) = published
    return event


def test_a_killed_workers_finding_is_published_by_its_next_run(tmp_path: Path) -> None:
    healthy = _healthy()
    outbox = Outbox(tmp_path / "outbox")
    published: list[DetectionEvent] = []
    p, detector = pipeline(FlakyStore(failures=1000), published)
    p.outbox = outbox
    run((p, detector), 60)  # S3 is down: the finding is rendered, kept, not published
    assert published == [] and len(outbox) == 1
    (item,) = p.pending
    assert item.frames is None and item.window is None, "the raw frames are let go"

    # The worker dies here. Its next run finds the entry and publishes it once S3 is back.
    store = FlakyStore(failures=0)
    (draft, rendering), *rest = list(Outbox(tmp_path / "outbox").entries())
    assert rest == []
    event = with_evidence(draft, EvidenceWriter(store).put(rendering))  # type: ignore[arg-type]
    assert event == healthy, "same id, same body, same evidence bytes"
    assert set(store.objects) == {r.key for r in healthy.data.evidence}
    outbox.remove(event)
    assert len(outbox) == 0


def test_a_published_finding_leaves_nothing_behind(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    published: list[DetectionEvent] = []
    p, detector = pipeline(FlakyStore(failures=1), published)
    p.outbox = outbox
    errors = run((p, detector), 300)  # one failed store, then the retry gets through
    assert len(errors) == 1 and len(published) == 1
    assert len(outbox) == 0 and not any((tmp_path / "outbox").rglob("*.bin"))


def test_a_half_written_entry_is_never_read(tmp_path: Path) -> None:
    entry = tmp_path / "outbox" / "VLG-ENF-001" / "some-event"
    entry.mkdir(parents=True)
    (entry / "0.bin").write_bytes(b"jpeg")
    (entry / "entry.json.partial").write_text('{"event": ')
    assert list(Outbox(tmp_path / "outbox").entries()) == []
