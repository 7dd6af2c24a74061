"""OpenVINO on the CPU (`DOZOR_BACKEND=openvino`): FP32, or INT8 quantised with NNCF.

Frames of a batch (many cameras, or a replay's next frames) go through an AsyncInferQueue,
so the CPU's streams work on several at once; a single frame uses a latency-compiled
network with every thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

import numpy as np
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from detectors.backends.export import Exported, exported
from detectors.backends.network import NetworkBackend, models_cache
from dozor.settings import Settings


class OpenVINOConfig(BaseSettings):
    """The OpenVINO backend's own options (DOZOR_OPENVINO_*)."""

    model_config = SettingsConfigDict(env_prefix="DOZOR_OPENVINO_", env_file=".env", extra="ignore")

    device: str = "CPU"
    threads: int = Field(0, ge=0, description="CPU threads; 0 = all cores.")
    # CPUs with AMX or AVX512-BF16 would otherwise run in bf16, which changes the boxes.
    precision: Literal["f32", "bf16"] = "f32"
    int8: bool = Field(False, description="Run the NNCF-quantised export of a .pt checkpoint.")
    calibration: Path | None = Field(None, description="Clips or images INT8 calibrates on.")


class OpenVINOBackend(NetworkBackend):
    key = "openvino"
    format = "openvino"

    def __init__(
        self, network: Exported, config: OpenVINOConfig, *, confidence: float, tracker: str
    ) -> None:
        super().__init__(network, confidence=confidence, tracker=tracker)
        import openvino as ov

        core = ov.Core()
        model = core.read_model(network.path)
        base: dict[str, object] = {"INFERENCE_PRECISION_HINT": config.precision}
        if config.threads:
            base["INFERENCE_NUM_THREADS"] = config.threads
        single = core.compile_model(model, config.device, {**base, "PERFORMANCE_HINT": "LATENCY"})
        many = core.compile_model(model, config.device, {**base, "PERFORMANCE_HINT": "THROUGHPUT"})
        self._request = single.create_infer_request()
        self._queue = ov.AsyncInferQueue(
            many, many.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")
        )
        self._queue.set_callback(self._done)
        self._outputs: dict[int, np.ndarray] = {}

    @classmethod
    def export(cls, settings: Settings) -> Exported:
        config = OpenVINOConfig()
        return exported(
            Path(settings.model),
            "openvino",
            models_cache(settings),
            int8=config.int8,
            calibration=config.calibration,
            imgsz=settings.imgsz,
        )

    @classmethod
    def load(cls, network: Exported, settings: Settings) -> Self:
        return cls(
            network, OpenVINOConfig(), confidence=settings.confidence, tracker=settings.tracker
        )

    def _done(self, request: object, index: int) -> None:
        self._outputs[index] = request.get_output_tensor(0).data[0].copy()  # type: ignore[attr-defined]

    def infer(self, batch: list[np.ndarray]) -> list[np.ndarray]:
        if len(batch) == 1:
            return [self._request.infer({0: batch[0]})[0][0]]
        self._outputs = {}
        for i, x in enumerate(batch):
            self._queue.start_async({0: x}, i)
        self._queue.wait_all()
        return [self._outputs[i] for i in range(len(batch))]
