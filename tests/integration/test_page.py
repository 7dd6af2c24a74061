"""The operator's page in a real headless Chromium against the real API and evidence store."""

from __future__ import annotations

import csv
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import httpx
import numpy as np
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from registry.app import create_app
from registry.auth import Role, issue_token
from registry.db import session_scope
from registry.models import CameraLease, EventRecord
from registry.seed import SEED_DIR
from tests.integration.conftest import DEMO_CAMERA, DEMO_CLIP, Replayed
from tests.integration.test_commission_cli import STREET, UNIT

pytestmark = pytest.mark.integration
ZONE = ZoneInfo("Europe/Volgograd")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def served(replayed: Replayed) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(replayed.settings), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "API did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _token(replayed: Replayed, role: Role) -> str:
    with session_scope(replayed.settings.db_url) as session:
        return issue_token(session, role, f"page test {role}")


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def _api(served: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=served, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _signed_in(browser: Browser, served: str, token: str) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{served}/#token={token}")
    page.wait_for_selector("tr.ev")
    return page


def test_operator_sees_events_and_evidence_images(served: str, replayed: Replayed) -> None:
    token = _token(replayed, Role.OPERATOR)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{served}/#token={token}")
        page.wait_for_selector("tr.ev")
        assert "token=" not in page.url  # taken out of the address bar at once
        # Other tests add cameras too: the page shows what the API counts.
        with _api(served, token) as client:
            kinds = [c["kind"] for c in client.get("/cameras?limit=500").json()["items"]]
        assert page.inner_text("#n-cams") == str(kinds.count("street_camera"))
        assert page.inner_text("#n-enf") == str(kinds.count("enforcement_unit"))
        # Times in the configured zone (Volgograd, UTC+3), UTC on hover.
        first = page.locator("tr.ev time").first
        assert first.get_attribute("title").endswith(" UTC")
        utc = datetime.fromisoformat(first.get_attribute("datetime").replace("Z", "+00:00"))
        assert first.inner_text() == utc.astimezone(ZONE).strftime("%d.%m.%Y, %H:%M:%S")
        # Other tests' cameras fill the list too; the operator filters by camera.
        page.fill("#f-camera", DEMO_CAMERA)
        page.click("#refresh")
        page.wait_for_function(
            f"[...document.querySelectorAll('tr.ev td:nth-child(2)')]"
            f".every(td => td.textContent === '{DEMO_CAMERA}')"
        )
        shown = {row.get_attribute("data-id") for row in page.locator("tr.ev").all()}
        assert shown == set(replayed.summary.event_ids)
        row = page.locator(f'tr.ev[data-id="{replayed.summary.event_ids[0]}"]')
        assert DEMO_CAMERA in row.inner_text()
        row.click()
        overview = page.locator("#detail img[alt=overview]")
        overview.wait_for()
        page.wait_for_function("document.querySelector('#detail img[alt=overview]').complete")
        assert overview.evaluate("img => img.naturalWidth") == 640
        browser.close()


def test_viewer_sees_the_list_but_no_images(served: str, replayed: Replayed) -> None:
    token = _token(replayed, Role.VIEWER)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{served}/#token={token}")
        page.locator("tr.ev").first.click()
        page.wait_for_selector("#detail h2")
        assert page.locator("#detail img").count() == 0
        assert "операторы, администраторы и ЦАФАП" in page.inner_text("#detail")
        browser.close()


def test_bad_token_is_reported_on_the_page(served: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{served}/#token=dz_not_a_token")
        page.wait_for_selector("#msg.err")
        assert "401" in page.inner_text("#msg")
        browser.close()


def test_russian_by_default_and_english_kept(
    served: str, replayed: Replayed, browser: Browser
) -> None:
    page = _signed_in(browser, served, _token(replayed, Role.VIEWER))
    assert page.get_attribute("html", "lang") == "ru"
    assert page.inner_text('[data-testid="open-editor"]') == "Редактор сцен"
    assert page.inner_text("#refresh") == "Обновить"
    page.select_option("#lang", "en")
    assert page.inner_text('[data-testid="open-editor"]') == "Scene editor"
    assert page.inner_text("#refresh") == "Refresh"
    page.reload()
    page.wait_for_selector("tr.ev")
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("#refresh") == "Refresh"


def test_map_draws_units_and_asks_no_one_else(
    served: str, replayed: Replayed, browser: Browser
) -> None:
    assert replayed.settings.map_tile_url is None
    token = _token(replayed, Role.VIEWER)
    page = browser.new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(f"{served}/#token={token}")
    page.wait_for_selector("tr.ev")
    with _api(served, token) as client:
        features = client.get("/cameras.geojson").json()["features"]
    page.wait_for_function(
        f"document.querySelectorAll('#map path.leaflet-interactive').length === {len(features)}"
    )
    assert page.locator("#map .leaflet-tile").count() == 0
    assert asked and all(u.startswith(served) for u in asked), sorted(set(asked))
    # A unit's marker opens the scene editor on it.
    page.locator("#map path.leaflet-interactive").last.dispatch_event("click")
    page.locator('[data-testid="scene-editor"]').wait_for()
    assert page.input_value("#ed-camera") == features[-1]["id"]


def test_a_heartbeat_changes_the_wall_without_a_reload(
    served: str, replayed: Replayed, browser: Browser
) -> None:
    page = _signed_in(browser, served, _token(replayed, Role.OPERATOR))
    page.click('nav [data-tab="wall"]')
    card = page.locator(f'#wall [data-camera="{DEMO_CAMERA}"]')
    card.wait_for()
    page.evaluate("window.__sameDocument = true")
    now = datetime.now(UTC).isoformat()
    beat = {
        "camera_id": DEMO_CAMERA,
        "worker_id": "page-test",
        "time": now,
        "fps_in": 25,
        "fps_out": 7.5,
        "last_frame_time": now,
    }
    # Heartbeats come only from the lease holder, with a token in its name: hold it briefly.
    with session_scope(replayed.settings.db_url) as session:
        token = issue_token(session, Role.DETECTOR, "page-test")
        lease = session.get(CameraLease, DEMO_CAMERA)
        kept = (lease.worker_id, lease.expires_at) if lease else None
        session.merge(
            CameraLease(
                camera_id=DEMO_CAMERA,
                worker_id="page-test",
                epoch=lease.epoch if lease else 0,
                expires_at=datetime.now(UTC) + timedelta(minutes=1),
            )
        )
    try:
        with _api(served, token) as client:
            assert client.post(f"/cameras/{DEMO_CAMERA}/heartbeat", json=beat).status_code == 202
    finally:
        with session_scope(replayed.settings.db_url) as session:
            row = session.get(CameraLease, DEMO_CAMERA)
            if kept is None:
                session.delete(row)
            else:
                row.worker_id, row.expires_at = kept
    page.wait_for_function(
        f"document.querySelector('#wall [data-camera=\"{DEMO_CAMERA}\"] .fps')"
        ".textContent === '7.5'",
        timeout=30_000,
    )
    assert "online" in card.get_attribute("class")
    assert card.locator(".state").inner_text() == "в сети"
    assert page.evaluate("window.__sameDocument") is True  # no reload happened


def test_review_queue_confirms_and_rejects_from_the_keyboard(
    served: str, replayed: Replayed, browser: Browser
) -> None:
    unit = {k: v for k, v in UNIT.items() if k != "stream_main"} | {"id": "VLG-ENF-961"}
    street = {k: v for k, v in STREET.items() if k != "stream_main"} | {"id": "VLG-CAM-961"}
    with _api(served, _token(replayed, Role.ADMIN)) as client:
        for cam in (unit, street):
            assert client.post("/cameras", json=cam).status_code == 201, cam
    t0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    with session_scope(replayed.settings.db_url) as session:
        session.add_all(
            EventRecord(
                id=eid,
                camera_id=cam,
                type="red_light",
                category="violation",
                gost_code="C12",
                time=t0.replace(minute=minute),
                scene_version=1,
                confidence=0.9,
                payload={},
            )
            for eid, cam, minute in (("pg-unit", unit["id"], 2), ("pg-street", street["id"], 1))
        )
        session.commit()
    token = _token(replayed, Role.OPERATOR)
    page = _signed_in(browser, served, token)
    page.click('[data-testid="open-review"]')
    queue = page.locator('[data-testid="review-queue"]')
    queue.wait_for()
    page.fill("#r-since", "2026-11-20T15:00")  # Volgograd time: 12:00 UTC
    page.fill("#r-until", "2026-11-20T15:05")
    page.click("#r-refresh")
    page.wait_for_function("document.querySelectorAll('#review-rows tr.rv').length === 2")
    rows = page.locator("#review-rows tr.rv")
    assert rows.nth(0).get_attribute("data-event-id") == "pg-unit"  # newest first
    page.fill("#review-reason", "красный, машина за стоп-линией")
    page.keyboard.press("Escape")
    page.keyboard.press("j")  # to the street camera's violation
    page.keyboard.press("c")
    page.wait_for_selector('tr.rv[data-event-id="pg-street"] td.state[data-state="confirmed"]')
    page.keyboard.press("k")
    page.fill("#review-reason", "тень автобуса")
    page.locator('tr.rv[data-event-id="pg-unit"] button[data-act="reject"]').click()
    page.wait_for_selector('tr.rv[data-event-id="pg-unit"] td.case[data-case="withdrawn"]')
    with page.expect_download() as download:
        page.click("#r-csv")  # the filtered queue, as shown
    rows_csv = list(csv.DictReader(Path(download.value.path()).read_text().splitlines()))
    assert {(r["event_id"], r["state"]) for r in rows_csv} == {
        ("pg-street", "confirmed"),
        ("pg-unit", "withdrawn"),
    }
    with _api(served, token) as client:
        got = {
            i["event_id"]: (i["state"], i["case"], i["reason"])
            for i in client.get("/review", params={"camera_id": "VLG-ENF-961"}).json()["items"]
            + client.get("/review", params={"camera_id": "VLG-CAM-961"}).json()["items"]
        }
    assert got == {
        "pg-street": ("confirmed", got["pg-street"][1], "красный, машина за стоп-линией"),
        "pg-unit": ("withdrawn", "withdrawn", "тень автобуса"),
    }


# The demo clip's scene, drawn with the mouse as an operator would (the seed's coordinates).
SEED = json.loads((SEED_DIR / "scenes" / "redlight_cam_platte_chelton.json").read_text())
STOP = SEED["lines"][0]
INTERSECTION = next(z for z in SEED["zones"] if z["kind"] == "intersection")


def _click(page: Page, x: float, y: float) -> None:
    """A click on the frame's pixel (x, y) of the editor's canvas, whatever its shown size."""
    canvas = page.locator("#ed-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x * box["width"] / 640, box["y"] + y * box["height"] / 352)


def _tool(page: Page, tool: str) -> None:
    page.check(f'input[name="ed-tool"][value="{tool}"]')


def test_editor_draws_previews_saves_and_diffs_a_scene(
    served: str, replayed: Replayed, browser: Browser
) -> None:
    cam = "VLG-CAM-962"
    with _api(served, _token(replayed, Role.ADMIN)) as client:
        street = {k: v for k, v in STREET.items() if k != "stream_main"}
        assert client.post("/cameras", json=street | {"id": cam}).status_code == 201
    token = _token(replayed, Role.OPERATOR)
    page = _signed_in(browser, served, token)
    page.click('[data-testid="open-editor"]')
    page.locator('[data-testid="scene-editor"]').wait_for()
    page.wait_for_selector(f'#ed-recording option[value="{DEMO_CLIP}"]', state="attached")
    page.select_option("#ed-camera", cam)
    page.select_option("#ed-recording", DEMO_CLIP)
    page.fill("#ed-t", "3.5")
    # An uploaded still of the view is a reference frame too; then the recording's frame.
    ok, png = cv2.imencode(".png", np.full((352, 640, 3), 90, np.uint8))
    assert ok
    still = {"name": "view.png", "mimeType": "image/png", "buffer": png.tobytes()}
    page.set_input_files("#ed-upload", still)
    page.wait_for_function("document.querySelector('#ed-msg').textContent.startsWith('upload')")
    page.click("#ed-take")
    page.wait_for_function(
        "document.querySelector('#ed-msg').textContent.startsWith('recording: ')"
    )

    # The stop line: two ends, then a point on the side traffic comes from.
    _tool(page, "stop_line")
    for x, y in [*STOP["points"], STOP["approach"]]:
        _click(page, x, y)
    # Each signal head: two corners; a new signal controls the stop lines drawn so far.
    _tool(page, "signal")
    for sig in SEED["signals"]:
        x1, y1, x2, y2 = sig["bbox"]
        _click(page, x1, y1)
        _click(page, x2, y2)
    # A zone whose edges cross: the registry's check names it while drawing.
    _tool(page, "zone")
    page.select_option("#ed-zone-kind", "no_stopping")
    for x, y in [(100, 200), (200, 300), (200, 200), (100, 300)]:
        _click(page, x, y)
    page.click("#ed-close-zone")
    page.wait_for_selector('#ed-problems li.bad[data-geometry="zones[zone1]"]')
    page.click("#ed-delete")
    page.select_option("#ed-zone-kind", "intersection")
    for x, y in INTERSECTION["polygon"]:
        _click(page, x, y)
    page.click("#ed-close-zone")
    page.wait_for_selector('#ed-problems li[data-valid="true"]')
    assert page.inner_text("#ed-test-point").startswith("Линии проверяются")

    # Preview on the clip: the red-light runner, drawn on its frame (the detector runs
    # once per recording: tens of seconds on the development machine).
    page.click("#ed-preview")
    page.wait_for_selector("#ed-preview-state[data-state]", timeout=600_000)
    assert page.get_attribute("#ed-preview-state", "data-state") == "done"
    red = page.locator('.pev[data-type="red_light"] img').first
    red.wait_for()
    page.wait_for_function(
        "[...document.querySelectorAll('.pev img')].every(i => i.complete && i.naturalWidth)"
    )
    assert red.evaluate("img => img.naturalWidth") == 640

    page.click("#ed-save")
    page.wait_for_selector("#ed-saved[data-version]")
    with _api(served, token) as client:
        saved = client.get(f"/cameras/{cam}/scene").json()
        assert saved["version"] == int(page.get_attribute("#ed-saved", "data-version"))
        (line,) = saved["config"]["lines"]
        assert (line["kind"], line["points"], line["approach"]) == (
            "stop_line",
            STOP["points"],
            STOP["approach"],
        )
        assert [s["bbox"] for s in saved["config"]["signals"]] == [
            s["bbox"] for s in SEED["signals"]
        ]
        assert all(s["controls"] == [line["id"]] for s in saved["config"]["signals"])
        (zone,) = saved["config"]["zones"]
        assert (zone["kind"], zone["polygon"]) == ("intersection", INTERSECTION["polygon"])
        frame = client.get(f"/cameras/{cam}/scenes/{saved['version']}/frame")
        assert frame.status_code == 200
        assert frame.headers["content-type"] == "image/jpeg"

    # Edit: drag the stop line's right end, save again, and compare the two versions.
    _tool(page, "select")
    page.locator("#ed-canvas").scroll_into_view_if_needed()
    box = page.locator("#ed-canvas").bounding_box()
    assert box is not None
    (x, y), scale = STOP["points"][1], box["width"] / 640
    page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
    page.mouse.down()
    page.mouse.move(box["x"] + (x + 20) * scale, box["y"] + (y + 10) * scale, steps=4)
    page.mouse.up()
    page.click("#ed-save")
    page.wait_for_function(
        f"document.querySelector('#ed-saved').dataset.version === '{saved['version'] + 1}'"
    )
    page.click("#ed-diff")
    changed = page.locator('#ed-diff-out li[data-change="changed"]')
    changed.wait_for()
    assert changed.get_attribute("data-geometry") == f"lines[{line['id']}]"
    page.locator("#ed-diff-canvas").wait_for()  # both versions drawn over the frame

    # A speed segment, a lane with its direction and a calibration, on a blank scene: the
    # check flags the calibration until its ground coordinates are typed.
    page.click("#ed-blank")
    for tool, ends in (
        ("speed_start", [(100, 250), (400, 280)]),
        ("speed_end", [(50, 320), (450, 340)]),
    ):
        _tool(page, tool)
        for x, y in ends:
            _click(page, x, y)
    _tool(page, "zone")
    page.select_option("#ed-zone-kind", "lane")
    for x, y in [(50, 200), (600, 200), (600, 340), (50, 340)]:
        _click(page, x, y)
    page.click("#ed-close-zone")
    _tool(page, "lane_dir")
    _click(page, 300, 330)
    _click(page, 300, 210)
    _tool(page, "calib")
    image_points = [[100, 300], [500, 300], [450, 200], [150, 200]]
    ground_points = [[0, 0], [10, 0], [10, 30], [0, 30]]
    for (x, y), (gx, gy) in zip(image_points, ground_points, strict=True):
        _click(page, x, y)
        page.fill("#ed-p-gx", str(gx))
        page.fill("#ed-p-gy", str(gy))
        if (gx, gy) == (10, 0):
            page.wait_for_selector('#ed-problems li.bad[data-geometry="calibration"]')
    page.wait_for_selector('#ed-problems li[data-valid="true"]')
    page.click("#ed-save")
    page.wait_for_function(
        f"document.querySelector('#ed-saved').dataset.version === '{saved['version'] + 2}'"
    )
    with _api(served, token) as client:
        third = client.get(f"/cameras/{cam}/scene").json()["config"]
    assert [ln["kind"] for ln in third["lines"]] == ["speed_start", "speed_end"]
    (lane,) = third["zones"]
    assert (lane["kind"], lane["direction"]) == ("lane", [[300, 330], [300, 210]])
    assert third["calibration"] == {"image_points": image_points, "ground_points": ground_points}
