"""Evidence capture: photos chosen by the rule, close-ups, the plate and a short clip, in S3.

Evidence is first rendered (encoded, in memory), then stored, all before the event is
published, so an event never points at media that does not exist yet. The clip is H.264 in
MP4 (yuv420p, even size, moov atom first), the one combination that every ordinary browser
plays.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from prometheus_client import Histogram

from contract.events import Category, EventType, EvidenceRef, EvidenceRole, category_of
from contract.scene import SceneConfig
from detectors.frame_ring import BufferedFrame
from detectors.plates import PlateReading, read_plate
from detectors.plates.locate import expand
from dozor.storage import ObjectStore

log = logging.getLogger(__name__)

JPEG_QUALITY = 90
_RED = (0, 0, 255)
_YELLOW = (0, 215, 255)
_WHITE = (255, 255, 255)
Box = tuple[float, float, float, float]
PlateReaderFn = Callable[[np.ndarray], PlateReading | None]

#: Photos an event type needs at least. Speed enforcement practice: two photos of the
#: vehicle at different positions, so the measurement can be checked against them.
MIN_PHOTOS = {EventType.SPEEDING: 2}
_PHOTO_ROLES = (EvidenceRole.BEFORE, EvidenceRole.OVERVIEW, EvidenceRole.AFTER)

CLIP_SECONDS = Histogram(
    "dozor_evidence_clip_encode_seconds",
    "Time to encode one evidence clip",
    buckets=(0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2),
)


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


def encode_clip(images: list[np.ndarray], fps: float, max_width: int) -> bytes:
    """BGR frames as browser-playable H.264 MP4, scaled down to ``max_width`` at most."""
    h, w = images[0].shape[:2]
    scale = min(1.0, max_width / w)
    # yuv420p needs even dimensions.
    width, height = int(w * scale) // 2 * 2, int(h * scale) // 2 * 2
    # The faststart pass re-opens the output by name to move the index to the front, so
    # the muxer needs a real file rather than a buffer.
    with tempfile.TemporaryDirectory(prefix="dozor-clip-") as tmp:
        path = Path(tmp) / "clip.mp4"
        _mux_h264(images, path, fps, width, height)
        return path.read_bytes()


def _mux_h264(images: list[np.ndarray], path: Path, fps: float, width: int, height: int) -> None:
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        # veryfast + one thread: a clip costs little next to YOLO on a small machine.
        stream.options = {"preset": "veryfast", "crf": "27"}
        stream.codec_context.thread_count = 1
        for image in images:
            if (image.shape[1], image.shape[0]) != (width, height):
                image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode(None))


def with_min_photos(
    frames: dict[EvidenceRole, BufferedFrame],
    window: list[BufferedFrame],
    track_id: int | None,
    needed: int,
) -> dict[EvidenceRole, BufferedFrame]:
    """Add the track's earliest and latest frames in the window until ``needed`` photos."""
    seen = [b for b in window if b.box_of(track_id) is not None]
    chosen = dict(frames)
    for role, candidate in ((EvidenceRole.BEFORE, seen[:1]), (EvidenceRole.AFTER, seen[-1:])):
        used = {b.frame.index for b in chosen.values()}
        if len(chosen) >= needed:
            break
        if role not in chosen and candidate and candidate[0].frame.index not in used:
            chosen[role] = candidate[0]
    # Chronological order, as the photos are shown.
    order = {role: i for i, role in enumerate(_PHOTO_ROLES)}
    return dict(sorted(chosen.items(), key=lambda item: order.get(item[0], len(order))))


@dataclass(frozen=True)
class RenderedObject:
    """One evidence object, encoded and named, not stored yet."""

    key: str
    role: EvidenceRole
    data: bytes
    content_type: str
    frame_index: int


@dataclass
class Rendering:
    """An event's evidence, encoded: a few hundred kilobytes instead of seconds of raw
    frames, so a finding that waits for S3 holds little memory and fits a local outbox."""

    objects: list[RenderedObject]
    #: Additions to the event's measured values (the plate reading).
    measured: dict[str, float | str] = field(default_factory=dict)


class EvidenceWriter:
    def __init__(
        self,
        store: ObjectStore,
        *,
        clip_pre_s: float = 2.0,
        clip_post_s: float = 2.0,
        clip_max_width: int = 960,
        plate_reader: PlateReaderFn | None = read_plate,
    ) -> None:
        self.store = store
        self.clip_pre_s = clip_pre_s
        self.clip_post_s = clip_post_s
        self.clip_max_width = clip_max_width
        self.plate_reader = plate_reader

    def _plate(
        self, key_prefix: str, vehicle: np.ndarray, frame: int
    ) -> tuple[list[RenderedObject], dict[str, float | str]]:
        reading = self.plate_reader(vehicle) if self.plate_reader and vehicle.size else None
        if reading is None:
            return [], {}
        h, w = vehicle.shape[:2]
        x1, y1, x2, y2 = expand(reading.bbox, w, h, 0.1, 0.2)
        photo = _photo(f"{key_prefix}/plate.jpg", EvidenceRole.PLATE, vehicle[y1:y2, x1:x2], frame)
        measured: dict[str, float | str] = {
            "plate": reading.formatted,
            "plate_raw": reading.raw,
            "plate_confidence": round(reading.confidence, 3),
            "plate_valid": "yes" if reading.valid else "no",
        }
        return [photo], measured

    def _clip(
        self,
        key_prefix: str,
        window: list[BufferedFrame],
        scene: SceneConfig,
        caption: str,
        track_id: int | None,
        fps: float,
    ) -> RenderedObject:
        start = time.perf_counter()
        images = []
        for b in window:
            det = b.box_of(track_id)
            images.append(annotate(b.frame.image, scene, det.bbox if det else None, caption))
        data = encode_clip(images, fps, self.clip_max_width)
        elapsed = time.perf_counter() - start
        CLIP_SECONDS.observe(elapsed)
        log.debug("clip: %d frames, %d bytes in %.0f ms", len(images), len(data), elapsed * 1e3)
        return RenderedObject(
            f"{key_prefix}/clip.mp4", EvidenceRole.CLIP, data, "video/mp4", window[0].frame.index
        )

    def render(
        self,
        *,
        key_prefix: str,
        scene: SceneConfig,
        caption: str,
        event_type: EventType,
        track_id: int | None,
        frames: dict[EvidenceRole, BufferedFrame],
        window: list[BufferedFrame],
        fps: float,
        fallback_box: Box | None,
    ) -> Rendering:
        """Encode the evidence of one event; ``window`` is the clip's frames, oldest first."""
        needed = MIN_PHOTOS.get(event_type, 1)
        if len(frames) < needed:
            frames = with_min_photos(frames, window, track_id, needed)
        objects: list[RenderedObject] = []
        measured: dict[str, float | str] = {}
        for role, buffered in frames.items():
            det = buffered.box_of(track_id)
            box = det.bbox if det else fallback_box
            image, index = buffered.frame.image, buffered.frame.index
            picture = annotate(image, scene, box, caption)
            objects.append(_photo(f"{key_prefix}/{role.value}.jpg", role, picture, index))
            if role is EvidenceRole.OVERVIEW and box is not None:
                vehicle = crop(image, box)
                objects.append(_photo(f"{key_prefix}/crop.jpg", EvidenceRole.CROP, vehicle, index))
                if category_of(event_type) is Category.VIOLATION:
                    plate, measured = self._plate(key_prefix, vehicle, index)
                    objects += plate
        if window:
            objects.append(self._clip(key_prefix, window, scene, caption, track_id, fps))
        return Rendering(objects, measured)

    def put(self, rendering: Rendering) -> list[EvidenceRef]:
        """Store every object (retained under object lock); references to what was stored.
        Storing again after a failure keeps what is already there (ObjectStore.put)."""
        refs = []
        for obj in rendering.objects:
            stored = self.store.put(obj.key, obj.data, obj.content_type)
            refs.append(
                EvidenceRef(
                    role=obj.role,
                    bucket=stored.bucket,
                    key=stored.key,
                    sha256=stored.sha256,
                    size=stored.size,
                    content_type=stored.content_type,
                    frame_index=obj.frame_index,
                    version_id=stored.version_id,
                )
            )
        return refs


def _photo(key: str, role: EvidenceRole, image: np.ndarray, frame: int) -> RenderedObject:
    return RenderedObject(key, role, jpeg(image), "image/jpeg", frame)
