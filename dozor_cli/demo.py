"""The one-command demo: stack up, seed, replay a real clip, seal and index its events, build
cases, serve the API and page."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import typer
from sqlalchemy import func, select

from consumers.enforcement import EnforcementConsumer
from consumers.evidence import EvidenceConsumer
from consumers.loop import ConsumerLoop
from detectors.replay import replay
from dozor.errors import UserError
from dozor.settings import Settings
from dozor_cli.bootstrap import set_up
from dozor_cli.stack import Stack
from registry.auth import Role, issue_token
from registry.case_book import DatabaseCaseBook
from registry.db import session_scope
from registry.link import DatabaseLink
from registry.models import EventRecord


def _indexed(settings: Settings, ids: tuple[str, ...]) -> int:
    if not ids:
        return 0
    with session_scope(settings.db_url) as session:
        return (
            session.scalar(select(func.count(EventRecord.id)).where(EventRecord.id.in_(ids))) or 0
        )


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_demo(settings: Settings, *, video: Path | None, camera_id: str, serve: bool) -> None:
    clip = video or settings.demo_video
    if clip is None:
        raise UserError("no clip to replay: pass --video or set DOZOR_DEMO_VIDEO")
    # SIGTERM (a service manager, `timeout`) must stop the embedded servers like Ctrl-C does;
    # uvicorn re-raises the signal after its own shutdown, so it lands here too.
    signal.signal(signal.SIGTERM, _interrupt)
    stack = Stack(settings)
    typer.echo("starting S3 (SeaweedFS) and Kafka-protocol broker (Tansu)...")
    stack.up()
    stop = threading.Event()
    threads: list[threading.Thread] = []
    handlers: list[EvidenceConsumer | EnforcementConsumer] = []
    try:
        set_up(settings)
        handlers = [
            EvidenceConsumer(settings),
            EnforcementConsumer(settings, cases=DatabaseCaseBook(settings)),
        ]
        for handler in handlers:
            loop = ConsumerLoop(settings, handler)
            threads.append(threading.Thread(target=loop.run, args=(stop,), daemon=True))
            threads[-1].start()

        typer.echo(f"replaying {clip} as camera {camera_id}...")
        summary = replay(settings, clip, camera_id, link=DatabaseLink(settings), progress=True)
        typer.echo(
            f"replay: {summary.frames} frames, {summary.fps:.1f} fps, "
            f"{summary.detections} detections, {summary.events} events published"
        )
        deadline = time.monotonic() + 120
        while _indexed(settings, summary.event_ids) < summary.events:
            if time.monotonic() > deadline or not threads[0].is_alive():
                break
            time.sleep(0.5)
        indexed = _indexed(settings, summary.event_ids)

        if serve:
            import uvicorn

            from registry.app import create_app

            with session_scope(settings.db_url) as session:
                token = issue_token(session, Role.OPERATOR, "demo operator")
            base = f"http://{settings.api_host}:{settings.api_port}"
            typer.echo(f"events indexed: {indexed}")
            typer.echo(f"page:   {base}/#token={token}")
            typer.echo(f"API:    {base}/docs  (Authorization: Bearer {token})")
            typer.echo(f"events: curl -H 'Authorization: Bearer {token}' {base}/events")
            typer.echo("Ctrl-C stops the API, the consumer and the embedded servers.")
            uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        for handler in handlers:
            handler.close()
        stack.down()
    if indexed < summary.events:
        raise UserError(f"only {indexed} of {summary.events} published events were indexed")
    typer.echo(f"events indexed: {indexed}")
