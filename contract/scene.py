"""Scene configuration: what a camera sees, in its own image coordinates.

A scene is versioned by the registry; every event records the version it was produced
with, so editing a scene never changes what an old event meant.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

Point = tuple[float, float]

# Caps that keep validating a scene cheap (the polygon checks are quadratic in its vertices)
# and far above any real one: a drawn zone has tens of vertices, a scene tens of items.
MAX_POLYGON_VERTICES = 200
MAX_SCENE_VERTICES = 2000
MAX_SCENE_ITEMS = 100


class ZoneKind(StrEnum):
    CROSSWALK = "crosswalk"
    NO_STOPPING = "no_stopping"
    NO_PARKING = "no_parking"
    BUS_LANE = "bus_lane"
    LANE = "lane"
    JUNCTION_BOX = "junction_box"
    CARRIAGEWAY = "carriageway"
    INTERSECTION = "intersection"
    # Where vehicles may stand: kerbside parking bays and bus stops. A vehicle standing in
    # one (most of its box's bottom edge inside) is neither a stopped-vehicle incident nor
    # a no-stopping violation.
    PARKING = "parking"
    BUS_STOP = "bus_stop"
    # Where cycling is banned: a motorway's carriageway (no pedestrians either), or a road
    # or path signed no-cycling. A cyclist (a bicycle, or the person riding one) in one is
    # reported.
    MOTORWAY = "motorway"
    NO_CYCLING = "no_cycling"


#: Zone kinds where standing is allowed.
STOPPING_ALLOWED = frozenset({ZoneKind.PARKING, ZoneKind.BUS_STOP})


class LineKind(StrEnum):
    STOP_LINE = "stop_line"
    SOLID_LINE = "solid_line"
    SPEED_START = "speed_start"
    SPEED_END = "speed_end"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Zone(_Strict):
    id: str = Field(min_length=1, max_length=64)
    kind: ZoneKind
    polygon: list[Point] = Field(
        min_length=3, max_length=MAX_POLYGON_VERTICES, description="Vertices in image pixels."
    )
    direction: tuple[Point, Point] | None = Field(
        default=None,
        description="For lanes: travel direction as two image points, from -> to.",
    )
    max_dwell_s: float | None = Field(
        default=None,
        gt=0,
        description=(
            "For no-stopping/no-parking zones: allowed dwell. For carriageway/intersection "
            "zones: how long a vehicle may stand (not queueing) before it is a "
            "stopped-vehicle incident (default 2 s)."
        ),
    )
    speed_limit_kmh: float | None = Field(
        default=None, gt=0, le=250, description="For lanes/carriageway: the posted speed limit."
    )


class Line(_Strict):
    id: str = Field(min_length=1, max_length=64)
    kind: LineKind
    points: tuple[Point, Point]
    approach: Point | None = Field(
        default=None,
        description=(
            "A point on the side traffic comes from. A crossing counts only from this "
            "side to the other; without it, both directions count."
        ),
    )
    queue_distance_px: float | None = Field(
        default=None,
        gt=0,
        description=(
            "For stop lines: a vehicle standing on the approach side within this many pixels "
            "of the line is waiting at it, not a stopped vehicle (signal in view or not). "
            "Unset: 1.5 times the vehicle's own box size."
        ),
    )


class SignalRegion(_Strict):
    """A traffic-light head visible in the frame; its colour is read from this box."""

    id: str = Field(min_length=1, max_length=64)
    bbox: tuple[float, float, float, float] = Field(description="x1, y1, x2, y2 in pixels.")
    controls: list[str] = Field(
        default_factory=list,
        max_length=MAX_SCENE_ITEMS,
        description="Ids of the stop lines this signal governs.",
    )
    controller_id: str | None = Field(
        default=None,
        description="Smart traffic-light controller whose published state takes precedence.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> SignalRegion:
        x1, y1, x2, y2 = self.bbox
        if x2 <= x1 or y2 <= y1:
            raise ValueError("bbox must be x1 < x2 and y1 < y2")
        return self


class Calibration(_Strict):
    """Image <-> ground point pairs (ground in metres) from which a homography is fitted."""

    image_points: list[Point] = Field(min_length=4, max_length=MAX_POLYGON_VERTICES)
    ground_points: list[Point] = Field(min_length=4, max_length=MAX_POLYGON_VERTICES)

    @model_validator(mode="after")
    def _paired(self) -> Calibration:
        if len(self.image_points) != len(self.ground_points):
            raise ValueError("image_points and ground_points must pair up one to one")
        return self


class SceneConfig(_Strict):
    frame_width: int = Field(gt=0, le=16384)
    frame_height: int = Field(gt=0, le=16384)
    zones: list[Zone] = Field(default_factory=list, max_length=MAX_SCENE_ITEMS)
    lines: list[Line] = Field(default_factory=list, max_length=MAX_SCENE_ITEMS)
    signals: list[SignalRegion] = Field(default_factory=list, max_length=MAX_SCENE_ITEMS)
    calibration: Calibration | None = None

    @model_validator(mode="after")
    def _inside_frame_and_unique(self) -> SceneConfig:
        w, h = self.frame_width, self.frame_height
        vertices = sum(len(z.polygon) for z in self.zones)
        if vertices > MAX_SCENE_VERTICES:
            raise ValueError(f"{vertices} zone vertices; at most {MAX_SCENE_VERTICES} per scene")
        ids: set[str] = set()
        shapes: list[tuple[str, list[Point]]] = [
            *((f"zones[{z.id}]", z.polygon) for z in self.zones),
            *((f"lines[{ln.id}]", list(ln.points)) for ln in self.lines),
            *(
                (f"signals[{s.id}]", [(s.bbox[0], s.bbox[1]), (s.bbox[2], s.bbox[3])])
                for s in self.signals
            ),
        ]
        for name, pts in shapes:
            for x, y in pts:
                if not (0 <= x <= w and 0 <= y <= h):
                    raise ValueError(f"{name}: point ({x}, {y}) lies outside the {w}x{h} frame")
        for item_id in (
            *(z.id for z in self.zones),
            *(ln.id for ln in self.lines),
            *(s.id for s in self.signals),
        ):
            if item_id in ids:
                raise ValueError(f"duplicate id {item_id!r} in scene")
            ids.add(item_id)
        line_ids = {ln.id for ln in self.lines}
        for s in self.signals:
            for lid in s.controls:
                if lid not in line_ids:
                    raise ValueError(f"signals[{s.id}] controls unknown line {lid!r}")
        return self

    def line(self, kind: LineKind) -> list[Line]:
        return [ln for ln in self.lines if ln.kind == kind]

    def zones_of(self, kind: ZoneKind) -> list[Zone]:
        return [z for z in self.zones if z.kind == kind]
