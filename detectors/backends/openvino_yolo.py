"""OpenVINO on the CPU (`DOZOR_BACKEND=openvino`): FP32, or INT8 quantised with NNCF.

The export takes any input shape; the network is compiled for each letterboxed shape the
first time a frame of it comes, as a static network is faster than a dynamic one. With
DOZOR_OPENVINO_RECT a 720p camera's frames go in as 640x384, not 640x640: about 40% less
work, and exactly the boxes ultralytics finds with the same .pt (it letterboxes a .pt so);
not the default, as on the labelled crosswalk clip it raises two stopped-vehicle false
alarms the square input and the reference TFLite do not (tests/integration/
test_eval_backends.py).

Every frame goes through an AsyncInferQueue of a throughput-compiled network: the frames of
a batch (many cameras, a replay's next frames) run at once on the CPU's streams, and a lone
frame takes one stream's threads. A live worker's rounds are mostly of one frame (cameras'
frames come at different times); a latency-compiled network with every thread made each of
them wait for the cores the decoders and the rules were using, and sustained fewer cameras
(bench/worker_capacity_bench.py). A frame goes in as soon as it is letterboxed and is decoded on
the callback thread as soon as it is done, so one frame's letterbox and another's decoding
overlap the inference of a third.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, TypeVar, cast

import numpy as np
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from detectors.backends.base import Boxes
from detectors.backends.export import Exported, exported
from detectors.backends.network import NetworkBackend, models_cache
from detectors.errors import DetectorInputError
from dozor.settings import Settings

if TYPE_CHECKING:
    import openvino as ov

R = TypeVar("R")


class OpenVINOConfig(BaseSettings):
    """The OpenVINO backend's own options (DOZOR_OPENVINO_*)."""

    model_config = SettingsConfigDict(env_prefix="DOZOR_OPENVINO_", env_file=".env", extra="ignore")

    device: str = "CPU"
    threads: int = Field(0, ge=0, description="CPU threads; 0 = all cores.")
    # CPUs with AMX or AVX512-BF16 would otherwise run in bf16, which changes the boxes.
    precision: Literal["f32", "bf16"] = "f32"
    int8: bool = Field(False, description="Run the NNCF-quantised export of a .pt checkpoint.")
    calibration: Path | None = Field(None, description="Clips or images INT8 calibrates on.")
    rect: bool = Field(False, description="Feed frames letterboxed to the stride, not square.")


class OpenVINOBackend(NetworkBackend):
    key = "openvino"
    format = "openvino"

    def __init__(
        self, network: Exported, config: OpenVINOConfig, *, confidence: float, tracker: str
    ) -> None:
        super().__init__(network, confidence=confidence, tracker=tracker)
        import openvino as ov

        if config.rect and not network.dynamic:
            raise DetectorInputError(f"{network.name} takes only square input: rebuild it")
        self.rect = config.rect
        self._core = ov.Core()
        self._model = self._core.read_model(network.path)
        self._device = config.device
        self._base: dict[str, object] = {"INFERENCE_PRECISION_HINT": config.precision}
        if config.threads:
            self._base["INFERENCE_NUM_THREADS"] = config.threads
        self._queues: dict[tuple[int, ...], ov.AsyncInferQueue] = {}

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

    def _queue(self, shape: tuple[int, ...]) -> ov.AsyncInferQueue:
        """The requests of the network compiled for one input shape."""
        if shape not in self._queues:
            import openvino as ov

            if self.network.dynamic:
                self._model.reshape(list(shape))
            compiled = self._core.compile_model(
                self._model, self._device, {**self._base, "PERFORMANCE_HINT": "THROUGHPUT"}
            )
            queue = ov.AsyncInferQueue(
                compiled, compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")
            )
            queue.set_callback(self._done)
            self._queues[shape] = queue
        return self._queues[shape]

    def _done(
        self, request: object, job: tuple[_Call[Any], int, Callable[[np.ndarray], Any]]
    ) -> None:
        call, index, finish = job
        try:
            call.finish(index, finish(request.get_output_tensor(0).data[0]))  # type: ignore[attr-defined]
        except Exception as exc:  # raised in the caller's thread, not lost on OpenVINO's
            call.fail(exc)

    def _run(
        self, jobs: Iterable[tuple[np.ndarray, Callable[[np.ndarray], R]]], count: int
    ) -> list[R]:
        """Each job's input to inference as soon as it is made, its output finished (copied,
        decoded) on the callback thread as soon as its request is done."""
        call: _Call[R] = _Call(count)
        for index, (x, finish) in enumerate(jobs):
            self._queue(x.shape).start_async({0: x}, (call, index, finish))
        return call.wait()

    def infer(self, batch: list[np.ndarray]) -> list[np.ndarray]:
        return self._run(((x, np.copy) for x in batch), len(batch))

    def detect(self, images: list[np.ndarray], max_batch: int = 16) -> list[Boxes]:
        def jobs() -> Iterator[tuple[np.ndarray, Callable[[np.ndarray], Boxes]]]:
            for image in images:
                x, box = self.prepare(image)
                yield x, partial(self.boxes, box=box)

        return self._run(jobs(), len(images))


class _Call(Generic[R]):
    """The outputs of one call's frames, filled in by OpenVINO's callback threads."""

    def __init__(self, count: int) -> None:
        self._results: list[R | None] = [None] * count
        self._error: Exception | None = None
        self._left = count
        self._lock = threading.Lock()
        self._all_done = threading.Event()
        if not count:
            self._all_done.set()

    def finish(self, index: int, result: R) -> None:
        self._results[index] = result
        self._one_done()

    def fail(self, error: Exception) -> None:
        self._error = self._error or error
        self._one_done()

    def _one_done(self) -> None:
        with self._lock:
            self._left -= 1
            if not self._left:
                self._all_done.set()

    def wait(self) -> list[R]:
        self._all_done.wait()
        if self._error is not None:
            raise self._error
        return cast(list[R], self._results)
