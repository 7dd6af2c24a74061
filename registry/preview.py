"""Scene previews: a recording run against a draft scene, nothing stored or published.

Each preview is ``dozor eval --clip --scene --json`` in a child process (the same detection
path as replay and eval, its detections cached per clip, so a second preview of the same
clip with an edited scene only re-runs the rules), watched by a thread; when it ends, every
event's frame is drawn with the draft scene. Jobs live in the API process's memory and their
files under ``state_dir/previews``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.scene import SceneConfig
from dozor.settings import Settings, child_env


class PreviewBusy(RuntimeError):
    pass


def env_for(settings: Settings) -> dict[str, str]:
    """The settings as DOZOR_* variables, for the child process."""
    env = child_env(settings, os.environ)
    # Capture options meant for live streams (set by whoever started the API) would break
    # decoding a recorded file.
    env.pop("OPENCV_FFMPEG_CAPTURE_OPTIONS", None)
    return env


@dataclass
class PreviewJob:
    id: str
    camera_id: str
    recording: str
    start_s: float
    end_s: float | None
    folder: Path
    state: str = "running"
    started: float = field(default_factory=time.monotonic)
    elapsed_s: float = 0.0
    error: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    def image(self, index: int) -> Path:
        return self.folder / f"event-{index}.jpg"


class Previews:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.state_dir / "previews"
        self.jobs: dict[str, PreviewJob] = {}
        self._lock = threading.Lock()

    def running(self) -> int:
        return sum(1 for j in self.jobs.values() if j.state == "running")

    def start(
        self,
        camera_id: str,
        scene: SceneConfig,
        clip: Path,
        start_s: float = 0.0,
        end_s: float | None = None,
    ) -> PreviewJob:
        with self._lock:
            if self.running() >= self.settings.preview_max_running:
                raise PreviewBusy("a preview is already running; try again when it ends")
            job_id = uuid.uuid4().hex
            folder = self.root / job_id
            folder.mkdir(parents=True)
            job = PreviewJob(job_id, camera_id, clip.name, start_s, end_s, folder)
            self.jobs[job_id] = job
        (folder / "scene.json").write_text(scene.model_dump_json())
        threading.Thread(target=self._run, args=(job, scene, clip), daemon=True).start()
        return job

    def _run(self, job: PreviewJob, scene: SceneConfig, clip: Path) -> None:
        out = job.folder / "events.json"
        cmd = [
            sys.executable,
            "-m",
            "dozor_cli.cli",
            "eval",
            "--clip",
            str(clip),
            "--scene",
            str(job.folder / "scene.json"),
            "--json",
            str(out),
        ]
        try:
            done = subprocess.run(
                cmd,
                env=env_for(self.settings),
                capture_output=True,
                text=True,
                timeout=self.settings.preview_timeout_s,
                check=False,
            )
            if done.returncode != 0:
                lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
                raise RuntimeError(lines[-1] if lines else f"eval exited {done.returncode}")
            found = json.loads(out.read_text())["events"]
            job.events = self._drawn(job, scene, clip, found)
            job.state = "done"
        except subprocess.TimeoutExpired:
            job.error, job.state = "preview took too long", "failed"
        except Exception as exc:  # a failed preview is reported to its caller, not raised
            job.error, job.state = str(exc)[:500], "failed"
        finally:
            job.elapsed_s = round(time.monotonic() - job.started, 1)

    def _drawn(
        self, job: PreviewJob, scene: SceneConfig, clip: Path, found: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        from detectors.scene_draw import draw_scene, encode
        from detectors.stills import frame_at

        events: list[dict[str, Any]] = []
        for ev in found:
            t = float(ev["time_s"])
            if t < job.start_s or (job.end_s is not None and t > job.end_s):
                continue
            index = len(events)
            caption = f"{ev['type']} #{ev.get('track_id')} {t:.2f}s"
            # By time, not frame_index: eval may count analysed frames, not the file's.
            image = draw_scene(frame_at(clip, t=t), scene, caption=caption)
            job.image(index).write_bytes(encode(image, ".jpg"))
            events.append(
                {
                    "index": index,
                    "type": ev["type"],
                    "time_s": t,
                    "track_id": ev.get("track_id"),
                    "frame_index": ev["frame_index"],
                    "confidence": ev.get("confidence"),
                    "gost_code": ev.get("gost_code"),
                    "measured": ev.get("measured", {}),
                    "image": f"/preview/{job.id}/events/{index}.jpg",
                }
            )
        return events
