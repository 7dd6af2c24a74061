"""The reference int8 TFLite run by LiteRT itself (`DOZOR_BACKEND=litert`): the same weights
ultralytics runs, so the same boxes, with no export and no calibration; our letterbox,
decoding and NMS (detectors/backends/yolo_io.py) and every core instead of ultralytics' one.
The graph's anchors are baked for its square input, so it cannot take the rectangular one.

A lone frame runs on one interpreter with every thread; the frames of a batch (many
cameras, a replay's next frames) run at once on single-threaded interpreters, one per core
(invoke lets go of the GIL), which keeps the cores busier than one interpreter's threads; a
frame left over after the others filled the cores runs alone with every thread. Each frame is
letterboxed, run and decoded on its core's thread, and calls may overlap (a worker's next
round while the last one's final frame runs), so the cores take frames as they come rather
than a batch at a time."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Queue
from typing import TYPE_CHECKING, Self, TypeVar

import numpy as np
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from detectors.backends.base import Boxes
from detectors.backends.export import Exported
from detectors.backends.network import NetworkBackend
from detectors.backends.ultralytics_yolo import existing_weights, file_sha256
from detectors.errors import DetectorInputError
from dozor.settings import Settings

if TYPE_CHECKING:
    from ai_edge_litert.interpreter import Interpreter

T = TypeVar("T")
R = TypeVar("R")


class LiteRTConfig(BaseSettings):
    """The LiteRT backend's own options (DOZOR_LITERT_*)."""

    model_config = SettingsConfigDict(env_prefix="DOZOR_LITERT_", env_file=".env", extra="ignore")

    threads: int = Field(
        0, ge=0, description="Threads of a lone frame, interpreters of a batch; 0 = all cores."
    )


class LiteRTBackend(NetworkBackend):
    key = "litert"

    def __init__(
        self, network: Exported, config: LiteRTConfig, *, confidence: float, tracker: str
    ) -> None:
        super().__init__(network, confidence=confidence, tracker=tracker)
        from ai_edge_litert.interpreter import Interpreter

        self.model_name = network.checkpoint
        cores = config.threads or len(os.sched_getaffinity(0))

        def interpreter(threads: int) -> Interpreter:
            made = Interpreter(model_path=str(network.path), num_threads=threads)
            made.allocate_tensors()
            return made

        self._latency = interpreter(cores)
        given = self._latency.get_input_details()[0]
        if tuple(given["shape"]) != (1, self.imgsz, self.imgsz, 3):
            raise DetectorInputError(
                f"{network.checkpoint} takes {tuple(given['shape'])}, not 1x{self.imgsz}x"
                f"{self.imgsz}x3: set DOZOR_IMGSZ to its size"
            )
        self._input = given["index"]
        self._output = self._latency.get_output_details()[0]["index"]
        self._idle: Queue[Interpreter] = Queue()
        for _ in range(cores):
            self._idle.put(interpreter(1))
        self._streams = ThreadPoolExecutor(cores, thread_name_prefix="litert")
        self._cores = cores
        self.concurrent_calls = cores
        self._calls = 0
        self._calls_lock = threading.Lock()

    @classmethod
    def export(cls, settings: Settings) -> Exported:
        """The .tflite itself: LiteRT runs it as it is."""
        weights = existing_weights(settings.model)
        if weights.suffix != ".tflite":
            raise DetectorInputError(f"the litert backend runs a .tflite, not {weights.name}")
        digest = file_sha256(weights)
        return Exported(
            model=weights.name,
            checkpoint=weights.name,
            checkpoint_sha256=digest,
            sha256=digest,
            imgsz=settings.imgsz,
            nchw=False,
            normalized=True,
            int8=False,
            directory=str(Path(weights).parent),
        )

    @classmethod
    def load(cls, network: Exported, settings: Settings) -> Self:
        return cls(
            network, LiteRTConfig(), confidence=settings.confidence, tracker=settings.tracker
        )

    def _run(self, interpreter: Interpreter, x: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(self._input, x)
        interpreter.invoke()
        out: np.ndarray = interpreter.get_tensor(self._output)[0].copy()
        return out

    def _detect_on(self, interpreter: Interpreter, image: np.ndarray) -> Boxes:
        x, box = self.prepare(image)
        return self.boxes(self._run(interpreter, x), box)

    def infer(self, batch: list[np.ndarray]) -> list[np.ndarray]:
        return self._spread(batch, self._run)

    def detect(self, images: list[np.ndarray], max_batch: int = 16) -> list[Boxes]:
        return self._spread(images, self._detect_on)

    def _spread(self, items: list[T], work: Callable[[Interpreter, T], R]) -> list[R]:
        """``work`` on every item, the items spread over the cores' interpreters."""
        if self._cores == 1:  # nothing runs at once
            return [work(self._latency, item) for item in items]
        with self._calls_lock:
            self._calls += 1
        try:
            leftover = len(items) % self._cores == 1
            head = items[:-1] if leftover else items
            done = list(self._streams.map(lambda item: self._on_idle(work, item), head))
            if leftover:
                done.append(self._alone(work, items[-1]))
            return done
        finally:
            with self._calls_lock:
                self._calls -= 1

    def _on_idle(self, work: Callable[[Interpreter, T], R], item: T) -> R:
        interpreter = self._idle.get()
        try:
            return work(interpreter, item)
        finally:
            self._idle.put(interpreter)

    def _alone(self, work: Callable[[Interpreter, T], R], item: T) -> R:
        # A frame left over after the others filled every core (the third of three on two
        # cores) would run on one core with the rest idle: it gets every thread instead
        # (2 cores: three frames in 111 ms, not 126), unless another call's frames are
        # there to take the idle cores.
        with self._calls_lock:
            alone = self._calls == 1
        return work(self._latency, item) if alone else self._on_idle(work, item)
