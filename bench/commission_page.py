"""Commissioning one camera through the page, timed, with the docs' screenshots.

Usage (from the repo root, with `./dev demo` serving in another shell, same DOZOR_ env):
    python -m bench.commission_page [--url http://127.0.0.1:8000] [--camera VLG-CAM-120]
        [--shots docs/img]
A headless Chromium does what an operator does in the scene editor, from a blank scene:
take a frame of the demo clip, draw the stop line with its approach, the five signal heads
and the intersection, wait for the registry's check, preview the clip against the draft
(the detector's run, tens of seconds, is most of it) and save. Printed: the wall-clock time
from opening the editor to the saved version, and the preview's share. The geometry comes
from the clip's seed scene, so the clicks are an operator's who knows where to click: what
is measured is the page and the API, not a person's thinking time.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Page, sync_playwright

from dozor.settings import get_settings
from registry.auth import Role, issue_token
from registry.db import session_scope
from registry.seed import SEED_DIR

CLIP = "redlight_cam_platte_chelton.mp4"
SCENE = json.loads((SEED_DIR / "scenes" / "redlight_cam_platte_chelton.json").read_text())
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def click(page: Page, x: float, y: float) -> None:
    canvas = page.locator("#ed-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x * box["width"] / 640, box["y"] + y * box["height"] / 352)


def shot(page: Page, shots: Path, name: str, selector: str | None = None) -> None:
    """A screenshot cut to 64 colours: the docs' PNGs stay small."""
    path = shots / f"{name}.png"
    target = page.locator(selector) if selector else page
    target.screenshot(path=str(path))
    Image.open(path).convert("RGB").quantize(64).save(path, optimize=True)
    print(f"{path}: {path.stat().st_size // 1024} KiB")


def commission(page: Page, camera: str, shots: Path) -> tuple[float, float]:
    """Blank scene to saved version; answers (total seconds, preview seconds)."""
    start = time.monotonic()
    page.click('[data-testid="open-editor"]')
    page.wait_for_selector(f'#ed-recording option[value="{CLIP}"]', state="attached")
    page.select_option("#ed-camera", camera)
    page.select_option("#ed-recording", CLIP)
    page.fill("#ed-t", "3.5")
    page.click("#ed-take")
    page.wait_for_function("document.querySelector('#ed-msg').textContent.includes('640×352')")
    stop = SCENE["lines"][0]
    page.check('input[name="ed-tool"][value="stop_line"]')
    for x, y in [*stop["points"], stop["approach"]]:
        click(page, x, y)
    page.check('input[name="ed-tool"][value="signal"]')
    for sig in SCENE["signals"]:
        click(page, *sig["bbox"][:2])
        click(page, *sig["bbox"][2:])
    page.check('input[name="ed-tool"][value="zone"]')
    page.select_option("#ed-zone-kind", "intersection")
    for x, y in next(z for z in SCENE["zones"] if z["kind"] == "intersection")["polygon"]:
        click(page, x, y)
    page.click("#ed-close-zone")
    page.wait_for_selector('#ed-problems li[data-valid="true"]')
    shot(page, shots, "editor", '[data-testid="scene-editor"]')
    preview_start = time.monotonic()
    page.click("#ed-preview")
    page.wait_for_selector("#ed-preview-state[data-state]", timeout=900_000)
    preview_s = time.monotonic() - preview_start
    page.wait_for_function(
        "[...document.querySelectorAll('.pev img')].every(i => i.complete && i.naturalWidth)"
    )
    page.click("#ed-save")
    page.wait_for_selector("#ed-saved[data-version]")
    total = time.monotonic() - start
    page.locator("#ed-preview-events").scroll_into_view_if_needed()
    shot(page, shots, "preview", "#ed-preview-events")
    return total, preview_s


def heartbeat(url: str, camera: str) -> None:
    with session_scope(get_settings().db_url) as session:
        token = issue_token(session, Role.DETECTOR, "commissioning bench")
    now = datetime.now(UTC).isoformat()
    beat = {"camera_id": camera, "worker_id": "bench", "time": now, "fps_in": 25, "fps_out": 8}
    r = httpx.post(
        f"{url}/cameras/{camera}/heartbeat",
        headers={"Authorization": f"Bearer {token}"},
        json=beat | {"last_frame_time": now},
    )
    assert r.status_code == 202, r.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--camera", default="VLG-CAM-120")
    parser.add_argument("--shots", type=Path, default=Path("docs/img"))
    args = parser.parse_args()
    args.shots.mkdir(parents=True, exist_ok=True)
    with session_scope(get_settings().db_url) as session:
        token = issue_token(session, Role.ADMIN, "commissioning bench")
    headers = {"Authorization": f"Bearer {token}"}
    unit = {"id": args.camera, "kind": "street_camera", "name": "пр. Ленина — ул. Пушкина"}
    r = httpx.post(f"{args.url}/cameras", headers=headers, json=unit | {"lat": 48.71, "lon": 44.52})
    assert r.status_code in (201, 409), r.text
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(f"{args.url}/#token={token}")
        page.wait_for_selector("tr.ev")
        page.wait_for_selector("#map path.leaflet-interactive")
        shot(page, args.shots, "overview")
        total, preview_s = commission(page, args.camera, args.shots)
        heartbeat(args.url, "VLG-ENF-001")  # the demo clip's unit, as its worker would
        page.click('nav [data-tab="wall"]')
        page.wait_for_selector('#wall .cam.online[data-camera="VLG-ENF-001"]')
        shot(page, args.shots, "wall")
        page.click('[data-testid="open-review"]')
        page.wait_for_selector("#review-rows tr.rv")
        shot(page, args.shots, "review", '[data-testid="review-queue"]')
        browser.close()
    print(
        f"commissioned {args.camera} from a blank scene: {total:.1f} s (preview {preview_s:.1f} s)"
    )


if __name__ == "__main__":
    main()
