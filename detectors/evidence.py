"""Evidence capture: annotated frames chosen by the rule and the vehicle close-up, in S3.

Everything is stored before the event is published, so an event never points at media
that does not exist yet.
"""

from __future__ import annotations

import cv2
import numpy as np

from contract.events import EvidenceRef, EvidenceRole
from contract.scene import SceneConfig
from detectors.frame_ring import BufferedFrame
from dozor.storage import ObjectStore

JPEG_QUALITY = 90
_RED = (0, 0, 255)
_YELLOW = (0, 215, 255)
_WHITE = (255, 255, 255)
Box = tuple[float, float, float, float]


def jpeg(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def annotate(image: np.ndarray, scene: SceneConfig, box: Box | None, caption: str) -> np.ndarray:
    out = image.copy()
    for line in scene.lines:
        a, b = (tuple(int(v) for v in p) for p in line.points)
        cv2.line(out, a, b, _YELLOW, 2)
    for sig in scene.signals:
        x1, y1, x2, y2 = (int(v) for v in sig.bbox)
        cv2.rectangle(out, (x1, y1), (x2, y2), _YELLOW, 1)
    if box is not None:
        x1, y1, x2, y2 = (int(v) for v in box)
        cv2.rectangle(out, (x1, y1), (x2, y2), _RED, 2)
    for thickness, colour in ((4, (0, 0, 0)), (1, _WHITE)):
        cv2.putText(
            out, caption, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.55, colour, thickness, cv2.LINE_AA
        )
    return out


def crop(image: np.ndarray, box: Box, pad: float = 0.15) -> np.ndarray:
    h, w = image.shape[:2]
    x1, y1, x2, y2 = box
    px, py = (x2 - x1) * pad, (y2 - y1) * pad
    left, top = max(int(x1 - px), 0), max(int(y1 - py), 0)
    right, bottom = min(int(x2 + px), w), min(int(y2 + py), h)
    return image[top:bottom, left:right]


class EvidenceWriter:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def _put(
        self, key: str, role: EvidenceRole, data: bytes, ctype: str, frame: int
    ) -> EvidenceRef:
        stored = self.store.put(key, data, ctype)
        return EvidenceRef(
            role=role,
            bucket=stored.bucket,
            key=stored.key,
            sha256=stored.sha256,
            size=stored.size,
            content_type=stored.content_type,
            frame_index=frame,
        )

    def capture(
        self,
        *,
        key_prefix: str,
        scene: SceneConfig,
        caption: str,
        track_id: int | None,
        frames: dict[EvidenceRole, BufferedFrame],
        fallback_box: Box | None,
    ) -> list[EvidenceRef]:
        refs = []
        for role, buffered in frames.items():
            det = buffered.box_of(track_id)
            box = det.bbox if det else fallback_box
            picture = annotate(buffered.frame.image, scene, box, caption)
            key = f"{key_prefix}/{role.value}.jpg"
            refs.append(self._put(key, role, jpeg(picture), "image/jpeg", buffered.frame.index))
            if role is EvidenceRole.OVERVIEW and box is not None:
                close_up = jpeg(crop(buffered.frame.image, box))
                key = f"{key_prefix}/crop.jpg"
                refs.append(
                    self._put(key, EvidenceRole.CROP, close_up, "image/jpeg", buffered.frame.index)
                )
        return refs
