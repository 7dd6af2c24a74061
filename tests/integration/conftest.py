"""Integration fixtures: one real replay of a real clip, shared by the tests that read it."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from consumers.evidence import EvidenceConsumer
from consumers.loop import ConsumerLoop, LoopStats
from detectors.replay import ReplaySummary, replay
from dozor.settings import Settings
from registry.link import DatabaseLink
from tests.conftest import media_dir

DEMO_CLIP = "redlight_cam_platte_chelton.mp4"
DEMO_CAMERA = "VLG-ENF-001"


@dataclass(frozen=True)
class Replayed:
    settings: Settings
    summary: ReplaySummary
    consumed: LoopStats


def consume_until_idle(settings: Settings, idle_s: float = 4.0) -> LoopStats:
    return ConsumerLoop(settings, EvidenceConsumer(settings)).run(
        threading.Event(), idle_exit_s=idle_s
    )


@pytest.fixture(scope="session")
def replayed(stack_env: Settings) -> Replayed:
    summary = replay(
        stack_env,
        media_dir() / DEMO_CLIP,
        DEMO_CAMERA,
        link=DatabaseLink(stack_env),
        progress=False,
    )
    return Replayed(stack_env, summary, consume_until_idle(stack_env))
