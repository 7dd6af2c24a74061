"""The reference int8 TFLite run by LiteRT itself (`DOZOR_BACKEND=litert`): the same weights
ultralytics runs, so the same boxes, with no export and no calibration; our letterbox,
decoding and NMS (detectors/backends/yolo_io.py) and every core instead of ultralytics' one.
The graph's anchors are baked for its square input, so it cannot take the rectangular one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self

import numpy as np
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from detectors.backends.export import Exported
from detectors.backends.network import NetworkBackend
from detectors.backends.ultralytics_yolo import existing_weights, file_sha256
from detectors.errors import DetectorInputError
from dozor.settings import Settings


class LiteRTConfig(BaseSettings):
    """The LiteRT backend's own options (DOZOR_LITERT_*)."""

    model_config = SettingsConfigDict(env_prefix="DOZOR_LITERT_", env_file=".env", extra="ignore")

    threads: int = Field(0, ge=0, description="Interpreter threads; 0 = all cores.")


class LiteRTBackend(NetworkBackend):
    key = "litert"

    def __init__(
        self, network: Exported, config: LiteRTConfig, *, confidence: float, tracker: str
    ) -> None:
        super().__init__(network, confidence=confidence, tracker=tracker)
        from ai_edge_litert.interpreter import Interpreter

        self.model_name = network.checkpoint
        self._interpreter = Interpreter(
            model_path=str(network.path), num_threads=config.threads or os.cpu_count() or 1
        )
        self._interpreter.allocate_tensors()
        given = self._interpreter.get_input_details()[0]
        if tuple(given["shape"]) != (1, self.imgsz, self.imgsz, 3):
            raise DetectorInputError(
                f"{network.checkpoint} takes {tuple(given['shape'])}, not 1x{self.imgsz}x"
                f"{self.imgsz}x3: set DOZOR_IMGSZ to its size"
            )
        self._input = given["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]

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

    def infer(self, batch: list[np.ndarray]) -> list[np.ndarray]:
        found = []
        for x in batch:
            self._interpreter.set_tensor(self._input, x)
            self._interpreter.invoke()
            found.append(self._interpreter.get_tensor(self._output)[0].copy())
        return found
