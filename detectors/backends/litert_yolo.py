"""The reference int8 TFLite run by LiteRT itself (`DOZOR_BACKEND=litert`): the same weights
ultralytics runs, so the same boxes, with no export and no calibration; our letterbox,
decoding and NMS (detectors/backends/yolo_io.py) and every core instead of ultralytics' one.
The graph's anchors are baked for its square input, so it cannot take the rectangular one.

A lone frame runs on one interpreter with every thread; the frames of a batch (many
cameras, a replay's next frames) run at once on single-threaded interpreters, one per core
(invoke lets go of the GIL), which keeps the cores busier than one interpreter's threads; a
frame left over after the others filled the cores runs alone with every thread."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Queue
from typing import TYPE_CHECKING, Self

import numpy as np
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from detectors.backends.export import Exported
from detectors.backends.network import NetworkBackend
from detectors.backends.ultralytics_yolo import existing_weights, file_sha256
from detectors.errors import DetectorInputError
from dozor.settings import Settings

if TYPE_CHECKING:
    from ai_edge_litert.interpreter import Interpreter


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

    def _on_idle(self, x: np.ndarray) -> np.ndarray:
        interpreter = self._idle.get()
        try:
            return self._run(interpreter, x)
        finally:
            self._idle.put(interpreter)

    def infer(self, batch: list[np.ndarray]) -> list[np.ndarray]:
        # A frame left over after the others filled every core (the third of three on two
        # cores) would run on one core with the rest idle: it gets every thread instead
        # (2 cores: three frames in 111 ms, not 126). With one core nothing runs at once.
        if self._cores == 1:
            parallel = 0
        else:
            parallel = len(batch) - 1 if len(batch) % self._cores == 1 else len(batch)
        outputs = list(self._streams.map(self._on_idle, batch[:parallel]))
        return outputs + [self._run(self._latency, x) for x in batch[parallel:]]
