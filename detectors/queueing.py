"""Is a standing vehicle part of traffic? Waiting at a stop line, behind another standing
vehicle in its lane, or in a jam is how traffic works, not an incident.

Everything here is in image pixels scaled by the vehicles' own box sizes, so the same
settings hold for a telephoto view of a motorway and a wide view of a junction."""

from __future__ import annotations

import math
from dataclasses import dataclass

from contract.scene import LineKind, SceneConfig, Zone, ZoneKind
from detectors.geometry import Point, bottom_share, projection, signed_distance

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Standing:
    """A vehicle standing now: where it is (smoothed box) and which way it was heading."""

    track_id: int
    box: Box
    #: Unit vector of its travel before it stopped (image pixels), if known.
    heading: Point | None

    @property
    def anchor(self) -> Point:
        x1, _, x2, y2 = self.box
        return ((x1 + x2) / 2, y2)

    @property
    def size(self) -> float:
        x1, y1, x2, y2 = self.box
        return max(x2 - x1, y2 - y1, 1.0)


@dataclass(frozen=True)
class QueueSettings:
    #: Waiting at a stop line: the anchor on its approach side, at most this many box sizes
    #: (the larger of width and height) from it. A scene line may set its own distance.
    stop_line_sizes: float = 1.5
    #: How far beyond a stop line's ends (share of its length) waiting still counts.
    stop_line_slack: float = 0.15
    #: Behind another standing vehicle: its anchor at most this many box sizes ahead...
    gap_sizes: float = 2.0
    #: ...and at most this many times its own extent across its heading to the side.
    lateral_widths: float = 0.6
    #: A zone holding this many standing vehicles is jammed: the congestion rule speaks
    #: for it, not one stopped-vehicle incident per car.
    jam_vehicles: int = 3


def heading_of(points: list[Point], min_px: float) -> Point | None:
    """Direction of travel from a track's anchors (oldest first), if it moved enough."""
    if len(points) < 2:
        return None
    (x0, y0), (x1, y1) = points[0], points[-1]
    d = math.hypot(x1 - x0, y1 - y0)
    return None if d < min_px else ((x1 - x0) / d, (y1 - y0) / d)


class Traffic:
    """What the standing vehicles of one frame say about each other."""

    def __init__(self, scene: SceneConfig, settings: QueueSettings | None = None) -> None:
        self.settings = settings or QueueSettings()
        self.stop_lines = scene.line(LineKind.STOP_LINE)
        self.lanes = [z for z in scene.zones_of(ZoneKind.LANE) if z.direction is not None]

    def heading(self, vehicle: Standing) -> Point | None:
        """A lane's drawn direction where the vehicle stands, else its own past motion."""
        lane = next((z for z in self.lanes if bottom_share(vehicle.box, z.polygon) >= 0.5), None)
        if lane is not None:
            (ax, ay), (bx, by) = lane.direction  # type: ignore[misc]
            d = math.hypot(bx - ax, by - ay) or 1.0
            return ((bx - ax) / d, (by - ay) / d)
        return vehicle.heading

    def at_stop_line(self, vehicle: Standing) -> str | None:
        """The stop line the vehicle waits behind, signal in view or not."""
        s = self.settings
        for line in self.stop_lines:
            t = projection(vehicle.anchor, *line.points)
            if not -s.stop_line_slack <= t <= 1 + s.stop_line_slack:
                continue
            d = signed_distance(vehicle.anchor, *line.points)
            if line.approach is not None:
                # Negative on the approach side, as the stop-line rules measure it.
                if signed_distance(line.approach, *line.points) > 0:
                    d = -d
                if d > 0:
                    continue
            reach = line.queue_distance_px or s.stop_line_sizes * vehicle.size
            if abs(d) <= reach:
                return line.id
        return None

    def behind(self, vehicle: Standing, others: list[Standing]) -> int | None:
        """The standing vehicle this one waits behind in its lane, if any. Without a known
        heading, any standing neighbour that close counts: two vehicles standing together
        are traffic, a lone one is not."""
        s = self.settings
        heading = self.heading(vehicle)
        (vx, vy) = vehicle.anchor
        w, h = vehicle.box[2] - vehicle.box[0], vehicle.box[3] - vehicle.box[1]
        # The vehicle's extent across its heading: its box width for traffic up or down
        # the image, its box height for traffic across it.
        across = max(abs(heading[1]) * w + abs(heading[0]) * h, 1.0) if heading else 0.0
        for other in others:
            if other.track_id == vehicle.track_id:
                continue
            dx, dy = other.anchor[0] - vx, other.anchor[1] - vy
            reach = s.gap_sizes * max(vehicle.size, other.size)
            if heading is None:
                if math.hypot(dx, dy) <= reach:
                    return other.track_id
                continue
            ahead = dx * heading[0] + dy * heading[1]
            aside = abs(-dx * heading[1] + dy * heading[0])
            if 0 < ahead <= reach and aside <= s.lateral_widths * across:
                return other.track_id
        return None

    def jammed(self, zone: Zone, standing: list[Standing]) -> bool:
        inside = [v for v in standing if bottom_share(v.box, zone.polygon) >= 0.5]
        return len(inside) >= self.settings.jam_vehicles

    def queued(self, vehicle: Standing, standing: list[Standing]) -> str | None:
        """Why this standing vehicle is taken to be queueing, or None if it is not."""
        line = self.at_stop_line(vehicle)
        if line is not None:
            return f"stop_line:{line}"
        ahead = self.behind(vehicle, standing)
        return None if ahead is None else f"behind:{ahead}"
