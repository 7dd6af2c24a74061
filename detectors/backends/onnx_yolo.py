"""ONNX Runtime on the CPU (`DOZOR_BACKEND=onnxruntime`), on the .pt checkpoint's ONNX export."""

from __future__ import annotations

from typing import Self

import numpy as np
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from detectors.backends.export import Exported
from detectors.backends.network import NetworkBackend
from dozor.settings import Settings


class OnnxRuntimeConfig(BaseSettings):
    """The ONNX Runtime backend's own options (DOZOR_ONNXRUNTIME_*)."""

    model_config = SettingsConfigDict(
        env_prefix="DOZOR_ONNXRUNTIME_", env_file=".env", extra="ignore"
    )

    threads: int = Field(0, ge=0, description="Intra-op threads; 0 = all cores.")


class OnnxRuntimeBackend(NetworkBackend):
    key = "onnxruntime"
    format = "onnx"

    def __init__(
        self, network: Exported, config: OnnxRuntimeConfig, *, confidence: float, tracker: str
    ) -> None:
        super().__init__(network, confidence=confidence, tracker=tracker)
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = config.threads
        self._session = ort.InferenceSession(
            str(network.path), options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name

    @classmethod
    def load(cls, network: Exported, settings: Settings) -> Self:
        return cls(
            network, OnnxRuntimeConfig(), confidence=settings.confidence, tracker=settings.tracker
        )

    def infer(self, batch: list[np.ndarray]) -> list[np.ndarray]:
        return [self._session.run(None, {self._input: x})[0][0] for x in batch]
