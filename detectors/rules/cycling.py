"""Cyclist where cycling is banned (incident): a bicycle, or the person riding one, on a
motorway or in a no-cycling zone for a second or more.

A cyclist is often two tracks, the person and the bicycle (detectors/tracks.py joins them):
the rider stands for both while seen, the bicycle alone when no rider is, and reporting
one reports the pair."""

from __future__ import annotations

from contract.events import EventType
from contract.scene import ZoneKind
from detectors.rules.base import Finding, FrameContext
from detectors.rules.zones import ZonePresenceRule
from detectors.tracks import Track


class CyclistBannedRule(ZonePresenceRule):
    event_type = EventType.CYCLIST_BANNED
    zone_kinds = (ZoneKind.MOTORWAY, ZoneKind.NO_CYCLING)
    min_s = 1.0

    def candidates(self, ctx: FrameContext) -> list[Track]:
        seen = [t for t in ctx.tracks.seen_now(ctx.index) if t.cyclist]
        ridden = {t.ridden_track for t in seen if t.rides is not None}
        return [t for t in seen if t.rides is not None or t.track_id not in ridden]

    def update(self, ctx: FrameContext) -> list[Finding]:
        findings = super().update(ctx)
        for finding in findings:
            rider = ctx.tracks.tracks[finding.track_id]  # type: ignore[index]
            if rider.ridden_track is not None:
                self.reported.add(rider.ridden_track)
        return findings
