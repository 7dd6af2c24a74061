"""Findings not yet published, kept on the worker's local disk until they are.

A live finding's evidence is rendered once (photos, plate, clip: a few hundred kilobytes),
written here together with its event (everything but the evidence references), then stored
in S3 and published. Only then is the entry removed. A worker killed while S3 or Kafka was
down finds its entries when it starts again and publishes them: same ids, same bytes, so a
finding that did get through before the kill is only indexed once.

Layout: ``<root>/<camera id>/<event id>/`` with the objects as files and ``entry.json``
written last (by rename), so a half-written entry is never read.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

from contract.events import DetectionEvent, EvidenceRole
from evidence.capture import RenderedObject, Rendering

log = logging.getLogger(__name__)

_ENTRY = "entry.json"


class Outbox:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, event: DetectionEvent) -> Path:
        # Ids and camera ids are checked by the contract (contract/ids.py): no separators.
        return self.root / event.subject / event.id

    def put(self, draft: DetectionEvent, rendering: Rendering) -> None:
        entry = self._dir(draft)
        entry.mkdir(parents=True, exist_ok=True)
        objects = []
        for n, obj in enumerate(rendering.objects):
            (entry / f"{n}.bin").write_bytes(obj.data)
            objects.append(
                {
                    "file": f"{n}.bin",
                    "key": obj.key,
                    "role": obj.role.value,
                    "content_type": obj.content_type,
                    "frame_index": obj.frame_index,
                }
            )
        body = {
            "event": draft.model_dump(mode="json"),
            "objects": objects,
            "measured": rendering.measured,
        }
        partial = entry / f"{_ENTRY}.partial"
        partial.write_text(json.dumps(body))
        partial.replace(entry / _ENTRY)

    def remove(self, event: DetectionEvent) -> None:
        shutil.rmtree(self._dir(event), ignore_errors=True)

    def entries(self) -> Iterator[tuple[DetectionEvent, Rendering]]:
        """Every complete entry, oldest first."""
        found = sorted(self.root.glob(f"*/*/{_ENTRY}"), key=lambda p: p.stat().st_mtime)
        for path in found:
            try:
                body = json.loads(path.read_text())
                objects = [
                    RenderedObject(
                        key=o["key"],
                        role=EvidenceRole(o["role"]),
                        data=(path.parent / o["file"]).read_bytes(),
                        content_type=o["content_type"],
                        frame_index=o["frame_index"],
                    )
                    for o in body["objects"]
                ]
                event = DetectionEvent.model_validate(body["event"])
            except (OSError, ValueError, KeyError) as exc:
                log.error("outbox entry %s is unreadable, kept for inspection: %s", path, exc)
                continue
            yield event, Rendering(objects, body["measured"])

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob(f"*/*/{_ENTRY}"))
