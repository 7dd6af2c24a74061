"""The scene drawn over a frame, and the editor's per-geometry validation and diff."""

from __future__ import annotations

from typing import Any

import numpy as np

from contract.scene import SceneConfig
from detectors.scene_draw import (
    BOX_COLOUR,
    LINE_COLOURS,
    SIGNAL_COLOUR,
    ZONE_COLOURS,
    decode,
    draw_scene,
    encode,
)
from registry.scenes import diff_scenes, validation_errors

W, H = 320, 240
RAW: dict[str, Any] = {
    "frame_width": W,
    "frame_height": H,
    "zones": [
        {"id": "nostop", "kind": "no_stopping", "polygon": [[10, 10], [100, 10], [100, 60]]},
        {
            "id": "lane1",
            "kind": "lane",
            "polygon": [[150, 100], [300, 100], [300, 230], [150, 230]],
            "direction": [[225, 220], [225, 110]],
        },
    ],
    "lines": [
        {
            "id": "stop",
            "kind": "stop_line",
            "points": [[20, 150], [140, 150]],
            "approach": [80, 200],
        },
        {"id": "s1", "kind": "speed_start", "points": [[160, 200], [290, 200]]},
        {"id": "s2", "kind": "speed_end", "points": [[160, 120], [290, 120]]},
    ],
    "signals": [{"id": "head", "bbox": [200, 10, 220, 60], "controls": ["stop"]}],
}


def _has(image: np.ndarray, colour: tuple[int, int, int]) -> bool:
    return bool(np.all(image == np.array(colour, dtype=np.uint8), axis=2).any())


def test_every_geometry_is_drawn_in_its_colour() -> None:
    frame = np.full((H, W, 3), 40, dtype=np.uint8)
    out = draw_scene(frame, SceneConfig.model_validate(RAW), box=(40, 160, 90, 200))
    assert out.shape == frame.shape
    assert not np.array_equal(out, frame)
    assert np.all(frame == 40)  # the input is left as it was
    for colour in (
        ZONE_COLOURS["no_stopping"],
        ZONE_COLOURS["lane"],
        LINE_COLOURS["stop_line"],
        LINE_COLOURS["speed_start"],
        SIGNAL_COLOUR,
        BOX_COLOUR,
    ):
        assert _has(out, colour), colour
    # The tested point, the bottom centre of the vehicle box, is marked.
    assert tuple(out[199, 65]) == BOX_COLOUR


def test_the_approach_arrow_starts_on_the_approach_side() -> None:
    frame = np.zeros((H, W, 3), dtype=np.uint8)
    only_line = {**RAW, "zones": [], "signals": [], "lines": RAW["lines"][:1]}
    out = draw_scene(frame, SceneConfig.model_validate(only_line))
    red = np.all(out == np.array(LINE_COLOURS["stop_line"], dtype=np.uint8), axis=2)
    ys = np.nonzero(red[:, 75:86].any(axis=1))[0]
    # The arrow reaches further below the line (the approach side, y=200) than above it.
    assert 150 - ys.min() < ys.max() - 150


def test_a_frame_of_another_size_is_scaled_to_the_scene() -> None:
    out = draw_scene(np.zeros((H * 2, W * 2, 3), dtype=np.uint8), SceneConfig.model_validate(RAW))
    assert out.shape == (H, W, 3)
    again = decode(encode(out))
    assert again is not None and again.shape == out.shape
    assert decode(b"not an image") is None


def test_validation_names_the_geometry_of_each_problem() -> None:
    assert validation_errors(RAW) == []
    bad = {
        **RAW,
        "zones": [
            {"id": "bow", "kind": "crosswalk", "polygon": [[0, 0], [50, 50], [50, 0], [0, 50]]},
            RAW["zones"][1],
        ],
        "lines": [{**RAW["lines"][0], "points": [[20, 150], [999, 150]]}],
        "signals": [],
    }
    errors = validation_errors(bad)
    assert [e["geometry"] for e in errors] == ["lines[stop]"]
    assert "outside" in errors[0]["msg"]
    bad["lines"] = RAW["lines"]
    errors = validation_errors(bad)
    assert [(e["geometry"], e["kind"], e["id"]) for e in errors] == [("zones[bow]", "zone", "bow")]
    assert "cross" in errors[0]["msg"]
    missing = validation_errors({**RAW, "signals": [{"id": "x", "bbox": [5, 5, 1, 1]}]})
    assert missing[0]["geometry"] == "signals[x]" and "x1 < x2" in missing[0]["msg"]
    assert validation_errors([])[0]["kind"] == "scene"


def test_diff_matches_geometry_by_id() -> None:
    before = SceneConfig.model_validate(RAW)
    after = SceneConfig.model_validate(
        {
            **RAW,
            "zones": RAW["zones"][1:],
            "lines": [{**RAW["lines"][0], "approach": [80, 100]}, *RAW["lines"][1:]],
            "signals": [*RAW["signals"], {"id": "head2", "bbox": [240, 10, 260, 60]}],
        }
    )
    d = diff_scenes(before, after)
    assert [a["geometry"] for a in d["added"]] == ["signals[head2]"]
    assert [r["geometry"] for r in d["removed"]] == ["zones[nostop]"]
    assert [
        (c["geometry"], c["before"]["approach"], c["after"]["approach"]) for c in d["changed"]
    ] == [("lines[stop]", [80.0, 200.0], [80.0, 100.0])]
    assert d["calibration_changed"] is False


def test_every_kind_has_a_colour_and_a_hint() -> None:
    from contract.scene import LineKind, ZoneKind
    from registry.scene_hints import HINTS

    assert set(ZONE_COLOURS) == set(ZoneKind) == set(HINTS["zones"])
    assert set(LINE_COLOURS) == set(LineKind) == set(HINTS["lines"])
