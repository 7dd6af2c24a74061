"""Camera tamper (incident), from the image alone: blurred (defocus, dirt, spray), dark
(covered lens, failed illumination) or obstructed (something flat filling the view).
A camera moved or pointed elsewhere is the registration's to tell (camera_view.py)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from contract.events import EventType
from contract.scene import SceneConfig
from detectors.rules.base import Finding, FrameContext, Rule


@dataclass(frozen=True)
class ImageStats:
    sharpness: float  # variance of the Laplacian
    brightness: float  # mean grey level, 0..255
    flat_fraction: float  # share of blocks without texture


class TamperRule(Rule):
    event_type = EventType.CAMERA_TAMPER
    # About the camera, not the scene: judged even when the view no longer matches it.
    needs_scene = False

    #: The reference view and sharpness are learnt over the first seconds of the stream.
    warmup_s = 2.0
    blur_ratio = 0.3  # sharpness below this share of the reference
    dark_level = 20.0  # mean grey level below this
    flat_block_std = 4.0
    flat_increase = 0.4  # this much more of the view is flat than in the reference
    #: A condition must hold this long: a truck passing close is not tamper.
    min_duration_s = 3.0
    sample_every_s = 0.5
    work_width = 160

    def __init__(self, scene: SceneConfig, fps: float) -> None:
        super().__init__(scene, fps)
        self.warmup: list[ImageStats] = []
        self.base: ImageStats | None = None
        self.since: dict[str, tuple[int, float]] = {}
        self.active: set[str] = set()
        self.next_sample = 0.0

    @classmethod
    def applies(cls, scene: SceneConfig) -> bool:
        return True

    def _grey(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        small = cv2.resize(image, (self.work_width, max(1, round(h * self.work_width / w))))
        return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)

    def _stats(self, grey: np.ndarray) -> ImageStats:
        h, w = grey.shape
        blocks = grey[: h - h % 8, : w - w % 8].reshape(h // 8, 8, w // 8, 8).std(axis=(1, 3))
        return ImageStats(
            sharpness=float(cv2.Laplacian(grey, cv2.CV_32F).var()),
            brightness=float(grey.mean()),
            flat_fraction=float((blocks < self.flat_block_std).mean()),
        )

    def update(self, ctx: FrameContext) -> list[Finding]:
        if ctx.offset_s < self.next_sample:
            return []
        self.next_sample = ctx.offset_s + self.sample_every_s
        now = self._stats(self._grey(ctx.image))
        if self.base is None:
            self.warmup.append(now)
            if ctx.offset_s >= self.warmup_s:
                stats = self.warmup
                self.base = ImageStats(
                    sharpness=float(np.median([s.sharpness for s in stats])),
                    brightness=float(np.median([s.brightness for s in stats])),
                    flat_fraction=float(np.median([s.flat_fraction for s in stats])),
                )
                self.warmup = []
            return []
        base = self.base
        conditions = {
            "blur": now.sharpness < self.blur_ratio * base.sharpness,
            "darkness": now.brightness < self.dark_level,
            "obstruction": now.flat_fraction > base.flat_fraction + self.flat_increase,
        }
        findings = []
        for condition, holds in conditions.items():
            if not holds:
                self.since.pop(condition, None)
                self.active.discard(condition)
                continue
            frame, since = self.since.setdefault(condition, (ctx.index, ctx.offset_s))
            if condition in self.active or ctx.offset_s - since < self.min_duration_s:
                continue
            self.active.add(condition)
            findings.append(
                self.finding(
                    ctx.index,
                    ctx.offset_s,
                    track=None,
                    confidence=1.0,
                    params={
                        "condition": condition,
                        "min_duration_s": self.min_duration_s,
                        "blur_ratio": self.blur_ratio,
                        "dark_level": self.dark_level,
                        "flat_increase": self.flat_increase,
                    },
                    measured={
                        "sharpness": round(now.sharpness, 1),
                        "reference_sharpness": round(base.sharpness, 1),
                        "brightness": round(now.brightness, 1),
                        "flat_fraction": round(now.flat_fraction, 3),
                        "reference_flat_fraction": round(base.flat_fraction, 3),
                    },
                    before_frame=frame,
                )
            )
        return findings
