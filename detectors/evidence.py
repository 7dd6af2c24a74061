"""Evidence capture: the annotated overview and the vehicle close-up, stored in S3 first."""

from __future__ import annotations

import cv2
import numpy as np

from contract.events import EvidenceRef, EvidenceRole
from contract.scene import SceneConfig
from detectors.backends.base import Detection
from dozor.storage import ObjectStore

JPEG_QUALITY = 90
_RED = (0, 0, 255)
_YELLOW = (0, 215, 255)
_WHITE = (255, 255, 255)


def _jpeg(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def annotate(image: np.ndarray, scene: SceneConfig, det: Detection, caption: str) -> np.ndarray:
    out = image.copy()
    for line in scene.lines:
        a, b = (tuple(int(v) for v in p) for p in line.points)
        cv2.line(out, a, b, _YELLOW, 2)
    for sig in scene.signals:
        x1, y1, x2, y2 = (int(v) for v in sig.bbox)
        cv2.rectangle(out, (x1, y1), (x2, y2), _YELLOW, 1)
    x1, y1, x2, y2 = (int(v) for v in det.bbox)
    cv2.rectangle(out, (x1, y1), (x2, y2), _RED, 2)
    cv2.putText(out, caption, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 4, cv2.LINE_AA)
    cv2.putText(out, caption, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, _WHITE, 1, cv2.LINE_AA)
    return out


def crop(
    image: np.ndarray, bbox: tuple[float, float, float, float], pad: float = 0.15
) -> np.ndarray:
    h, w = image.shape[:2]
    x1, y1, x2, y2 = bbox
    px, py = (x2 - x1) * pad, (y2 - y1) * pad
    left, top = max(int(x1 - px), 0), max(int(y1 - py), 0)
    right, bottom = min(int(x2 + px), w), min(int(y2 + py), h)
    return image[top:bottom, left:right]


class EvidenceWriter:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def capture(
        self,
        *,
        key_prefix: str,
        image: np.ndarray,
        scene: SceneConfig,
        det: Detection,
        caption: str,
        frame_index: int,
    ) -> list[EvidenceRef]:
        artifacts = [
            (EvidenceRole.OVERVIEW, annotate(image, scene, det, caption)),
            (EvidenceRole.CROP, crop(image, det.bbox)),
        ]
        refs = []
        for role, picture in artifacts:
            stored = self.store.put(f"{key_prefix}/{role.value}.jpg", _jpeg(picture), "image/jpeg")
            refs.append(
                EvidenceRef(
                    role=role,
                    bucket=stored.bucket,
                    key=stored.key,
                    sha256=stored.sha256,
                    size=stored.size,
                    content_type=stored.content_type,
                    frame_index=frame_index,
                )
            )
        return refs
