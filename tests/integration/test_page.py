"""The operator's page in a real headless Chromium against the real API and evidence store."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from registry.app import create_app
from registry.auth import Role, issue_token
from registry.db import session_scope
from tests.integration.conftest import DEMO_CAMERA, Replayed

pytestmark = pytest.mark.integration

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


def test_operator_sees_events_and_evidence_images(served: str, replayed: Replayed) -> None:
    token = _token(replayed, Role.OPERATOR)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{served}/#token={token}")
        page.wait_for_selector("tr.ev")
        assert "token=" not in page.url  # taken out of the address bar at once
        assert page.inner_text("#n-cams") == "94"
        assert page.inner_text("#n-enf") == "16"
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
        assert "operators, administrators and enforcement" in page.inner_text("#detail")
        browser.close()


def test_bad_token_is_reported_on_the_page(served: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{served}/#token=dz_not_a_token")
        page.wait_for_selector("#msg.err")
        assert "401" in page.inner_text("#msg")
        browser.close()
