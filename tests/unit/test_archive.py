"""Reading an archive's manifest and directory: every mistake is one clear error naming its
line, found before anything is replayed; and the table that sums an archive replay up."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from contract.scene import SceneConfig
from detectors.archive import (
    FileResult,
    Recording,
    Status,
    check_cameras,
    parse_started_at,
    read_manifest,
    recordings_in,
)
from detectors.errors import DetectorInputError
from detectors.replay import ReplaySummary
from dozor.errors import UserError
from dozor_cli.cli import app
from dozor_cli.tables import archive_table

HEADER = "file,camera_id,started_at\n"


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    for name in ("a.mp4", "b.avi", "notes.txt"):
        (tmp_path / name).write_bytes(b"video")
    return tmp_path


def _manifest(directory: Path, body: str, header: str = HEADER) -> Path:
    path = directory / "manifest.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_manifest_rows_become_recordings_timed_in_utc(archive: Path) -> None:
    path = _manifest(
        archive,
        "a.mp4,VLG-ENF-001,2026-03-01T08:00:00+03:00\n"
        "\n"
        f"{archive / 'b.avi'}, VLG-CAM-002 ,2026-03-01T05:30:00Z\n",
    )
    assert read_manifest(path) == [
        Recording(
            archive / "a.mp4",
            "VLG-ENF-001",
            datetime(2026, 3, 1, 5, 0, tzinfo=UTC),
            f"{path} line 2",
        ),
        Recording(
            archive / "b.avi",
            "VLG-CAM-002",
            datetime(2026, 3, 1, 5, 30, tzinfo=UTC),
            f"{path} line 4",
        ),
    ]


def test_a_spreadsheets_byte_order_mark_is_not_part_of_the_header(archive: Path) -> None:
    path = archive / "manifest.csv"
    path.write_text(HEADER + "a.mp4,VLG-ENF-001,2026-03-01T05:00:00Z\n", encoding="utf-8-sig")
    assert [r.camera_id for r in read_manifest(path)] == ["VLG-ENF-001"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("nope.mp4,VLG-ENF-001,2026-03-01T05:00:00Z\n", "line 2: video not found: "),
        ("a.mp4,VLG-ENF-001\n", "line 2: 2 fields where 3 are expected"),
        ("a.mp4,VLG-ENF-001,2026-03-01T05:00:00Z,extra\n", "line 2: 4 fields where 3"),
        (",VLG-ENF-001,2026-03-01T05:00:00Z\n", "line 2: file and camera_id must not be empty"),
        ("a.mp4,VLG-ENF-001,yesterday\n", "line 2: started_at 'yesterday' is not an ISO 8601"),
        (
            "a.mp4,VLG-ENF-001,2026-03-01T08:00:00\n",
            "line 2: started_at '2026-03-01T08:00:00' has no UTC offset",
        ),
        (
            "a.mp4,VLG-ENF-001,2026-03-01T05:00:00Z\n"
            "b.avi,VLG-ENF-001,2026-03-01T06:00:00Z\n"
            "a.mp4,VLG-ENF-001,2026-03-02T05:00:00Z\n",
            "line 4: repeats line 2 (a.mp4 as VLG-ENF-001)",
        ),
        ("\n", "lists no recordings"),
    ],
)
def test_a_bad_manifest_line_is_named(archive: Path, body: str, message: str) -> None:
    path = _manifest(archive, body)
    with pytest.raises(UserError) as caught:
        read_manifest(path)
    assert message in str(caught.value)


def test_the_same_file_as_two_cameras_is_two_recordings(archive: Path) -> None:
    path = _manifest(
        archive,
        "a.mp4,VLG-ENF-001,2026-03-01T05:00:00Z\na.mp4,VLG-ENF-002,2026-03-01T05:00:00Z\n",
    )
    assert [r.camera_id for r in read_manifest(path)] == ["VLG-ENF-001", "VLG-ENF-002"]


@pytest.mark.parametrize("header", ["file,camera,start\n", "", "camera_id,file,started_at\n"])
def test_the_header_must_name_the_columns_in_order(archive: Path, header: str) -> None:
    path = _manifest(archive, "a.mp4,VLG-ENF-001,2026-03-01T05:00:00Z\n", header=header)
    with pytest.raises(UserError, match="line 1: the header must be file,camera_id,started_at"):
        read_manifest(path)


def test_a_missing_manifest_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="manifest not found"):
        read_manifest(tmp_path / "manifest.csv")


def test_started_at_keeps_the_instant() -> None:
    assert parse_started_at(" 2026-03-01T08:00:00.500+03:00 ") == datetime(
        2026, 3, 1, 5, 0, 0, 500000, tzinfo=UTC
    )


def test_a_directory_is_its_videos_as_one_camera_timed_by_their_files(archive: Path) -> None:
    recordings = recordings_in(archive, "VLG-ENF-001")
    assert [(r.path.name, r.camera_id, r.started_at) for r in recordings] == [
        ("a.mp4", "VLG-ENF-001", None),
        ("b.avi", "VLG-ENF-001", None),
    ]


def test_a_directory_without_videos_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no videos"):
        recordings_in(tmp_path, "VLG-ENF-001")


class _Link:
    def __init__(self, cameras: set[str]) -> None:
        self.cameras = cameras
        self.asked: list[str] = []

    def scene(self, camera_id: str) -> tuple[int, SceneConfig]:
        self.asked.append(camera_id)
        if camera_id not in self.cameras:
            raise LookupError(f"unknown camera id: {camera_id}")
        return 1, SceneConfig.model_validate({"frame_width": 640, "frame_height": 352})


def test_an_unknown_camera_is_named_with_its_line_before_anything_runs(archive: Path) -> None:
    path = _manifest(
        archive,
        "a.mp4,VLG-ENF-001,2026-03-01T05:00:00Z\n"
        "b.avi,VLG-ENF-001,2026-03-01T05:00:00Z\n"
        "a.mp4,VLG-CAM-999,2026-03-01T05:00:00Z\n",
    )
    link = _Link({"VLG-ENF-001"})
    with pytest.raises(DetectorInputError, match=r"line 4: unknown camera id: VLG-CAM-999"):
        check_cameras(read_manifest(path), link)  # type: ignore[arg-type]
    assert link.asked == ["VLG-ENF-001", "VLG-CAM-999"]  # each camera looked up once


def test_the_summary_table_counts_only_what_this_run_published(archive: Path) -> None:
    def summary(frames: int, events: int) -> ReplaySummary:
        ids = tuple(f"id-{i}" for i in range(events))
        return ReplaySummary("VLG-ENF-001", frames, 10.0, 40, events, ids)

    start = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    recordings = [
        Recording(archive / name, "VLG-ENF-001", start, f"line {n}")
        for n, name in enumerate(("a.mp4", "b.avi", "c.mp4"), start=2)
    ]
    results = [
        FileResult(recordings[0], Status.REPLAYED, summary(100, 2)),
        FileResult(recordings[1], Status.DONE_BEFORE, summary(50, 3)),
        FileResult(recordings[2], Status.FAILED, error="cannot decode video"),
    ]
    out = io.StringIO()
    Console(file=out, width=160).print(archive_table(results))
    lines = [" ".join(ln.replace("│", " ").split()) for ln in out.getvalue().splitlines()]
    assert "a.mp4 VLG-ENF-001 2026-03-01T05:00:00Z replayed 100 10.0 2" in lines
    assert "b.avi VLG-ENF-001 2026-03-01T05:00:00Z done before 50 5.0 3" in lines
    assert "c.mp4 VLG-ENF-001 2026-03-01T05:00:00Z failed - - -" in lines
    assert "published by this run 100 2" in lines


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["manifest.csv", "--camera", "VLG-ENF-001"], "a manifest names each file's camera"),
        (["manifest.csv", "--started-at", "2026-03-01T05:00:00Z"], "--started-at goes with a"),
        (["."], "--camera is required: every file of a directory is one camera"),
        (["a.mp4"], "--camera is required to replay a file"),
        (["a.mp4", "--camera", "VLG-ENF-001", "--started-at", "8:00"], "is not an ISO 8601"),
    ],
)
def test_the_command_refuses_options_that_do_not_fit_the_input(
    archive: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    _manifest(archive, "a.mp4,VLG-ENF-001,2026-03-01T05:00:00Z\n")
    monkeypatch.chdir(archive)
    result = CliRunner().invoke(app, ["replay", *args])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and message in result.output
