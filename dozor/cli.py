"""The ``dozor`` command."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer

from dozor import logs
from dozor.errors import UserError
from dozor.settings import Settings, get_settings

app = typer.Typer(no_args_is_help=True, help="Dozor: traffic cameras to verified evidence.")
stack_app = typer.Typer(no_args_is_help=True, help="Embedded S3 and Kafka-protocol servers.")
registry_app = typer.Typer(no_args_is_help=True, help="The camera registry and its API.")
consume_app = typer.Typer(no_args_is_help=True, help="Run a consumer.")
schema_app = typer.Typer(no_args_is_help=True, help="The event contract's JSON Schema files.")
app.add_typer(stack_app, name="stack")
app.add_typer(registry_app, name="registry")
app.add_typer(consume_app, name="consume")
app.add_typer(schema_app, name="schema")


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Errors the user can act on become one line on stderr and exit status 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    return wrapper


@app.callback()
def main() -> None:
    logs.setup(get_settings().log_level)


@stack_app.command("up")
@user_errors
def stack_up() -> None:
    """Start SeaweedFS (S3) and Tansu (Kafka protocol) on 127.0.0.1."""
    from dozor.stack import Stack

    stack = Stack(get_settings())
    stack.up()
    for name, st in stack.status().items():
        typer.echo(f"{name}: pid {st['pid']} ports {st['ports']} ready={st['ready']}")


@stack_app.command("down")
@user_errors
def stack_down() -> None:
    """Stop the embedded servers (their data stays in the state directory)."""
    from dozor.stack import Stack

    Stack(get_settings()).down()
    typer.echo("stack stopped")


@stack_app.command("status")
def stack_status() -> None:
    from dozor.stack import Stack

    for name, st in Stack(get_settings()).status().items():
        typer.echo(f"{name}: pid {st['pid']} ports {st['ports']} ready={st['ready']}")


@registry_app.command("serve")
def registry_serve(
    port: Annotated[int | None, typer.Option(help="Port (default DOZOR_API_PORT).")] = None,
) -> None:
    """Serve the registry API and page; migrates and seeds an empty database first."""
    import uvicorn

    from registry.app import create_app

    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.api_host, port=port or settings.api_port)


@registry_app.command("migrate")
def registry_migrate() -> None:
    """Migrate the database to the newest schema and seed an empty registry (idempotent)."""
    from registry.app import prepare_database

    prepare_database(get_settings())
    typer.echo("registry database is up to date")


@registry_app.command("token")
def registry_token(
    role: Annotated[str, typer.Option(help="viewer, operator, admin, enforcement or detector")],
    name: Annotated[str, typer.Option(help="Who or what holds the token.")] = "cli",
) -> None:
    """Issue a bearer token for a role; it is printed once and stored only as a hash."""
    from registry.app import prepare_database
    from registry.auth import Role, issue_token
    from registry.db import session_scope

    try:
        chosen = Role(role)
    except ValueError:
        typer.echo(f"error: unknown role {role!r}; one of {[r.value for r in Role]}", err=True)
        raise typer.Exit(2) from None
    settings = get_settings()
    prepare_database(settings)
    with session_scope(settings.db_url) as session:
        token = issue_token(session, chosen, name)
    typer.echo(token)


@app.command()
@user_errors
def replay(
    video: Annotated[Path, typer.Argument(help="Recorded video file.")],
    camera: Annotated[str, typer.Option("--camera", help="Registry camera id, e.g. VLG-ENF-001")],
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Replay a recorded video through detection -> evidence -> Kafka."""
    from detectors.replay import replay as run_replay
    from registry.app import prepare_database

    settings = get_settings()
    prepare_database(settings)
    s = run_replay(settings, video, camera, progress=progress and sys.stderr.isatty())
    typer.echo(
        f"camera {s.camera_id}: {s.frames} frames in {s.seconds:.1f}s ({s.fps:.1f} fps), "
        f"{s.detections} detections, {s.events} events published"
    )


@app.command("eval")
@user_errors
def eval_rules(
    clips: Annotated[
        list[str] | None, typer.Argument(help="Clip stems to score (default: every labelled one).")
    ] = None,
) -> None:
    """Score the rules on hand-labelled clips: precision, recall and time error per rule."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeRemainingColumn,
    )

    from detectors.eval import Evaluator, report

    evaluator = Evaluator(get_settings())
    console = Console(width=160)
    results = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        for video in evaluator.clips(clips):
            task = bar.add_task(video.stem, total=None)

            def advance(done: int, total: int | None, task: TaskID = task) -> None:
                bar.update(task, completed=done, total=total)

            results.append(evaluator.evaluate(video, on_frame=advance))
    for table in report(results):
        console.print(table)


UntilIdle = Annotated[
    float | None, typer.Option(help="Exit after this many seconds without messages.")
]


def _consume(make_handler: Callable[[Settings], Any], until_idle: float | None) -> None:
    """Run one consumer until SIGTERM/Ctrl-C (or idle), finishing the message in hand."""
    import signal

    from consumers.loop import ConsumerLoop
    from dozor import bus
    from registry.app import prepare_database

    settings = get_settings()
    prepare_database(settings)
    bus.ensure_topics(settings)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if settings.consumer_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.consumer_metrics_port, addr=settings.api_host)
    handler = make_handler(settings)
    try:
        stats = ConsumerLoop(settings, handler).run(stop, idle_exit_s=until_idle)
    finally:
        close = getattr(handler, "close", None)
        if close is not None:
            close()
    typer.echo(
        f"handled {stats.handled}, dead-lettered {stats.dead_lettered}, retries {stats.retries}"
    )


@consume_app.command("evidence")
@user_errors
def consume_evidence(until_idle: UntilIdle = None) -> None:
    """Verify, seal and index the evidence of each event (idempotent; commits after the write)."""
    from consumers.evidence import EvidenceConsumer

    _consume(EvidenceConsumer, until_idle)


@consume_app.command("enforcement")
@user_errors
def consume_enforcement(until_idle: UntilIdle = None) -> None:
    """Build a case per violation, publish it, deliver it to DOZOR_ENFORCEMENT_ENDPOINT once."""
    from consumers.enforcement import EnforcementConsumer

    _consume(EnforcementConsumer, until_idle)


@schema_app.command("export")
def schema_export() -> None:
    """Regenerate the checked-in JSON Schema files from the models."""
    from contract.schema_files import export

    for path in export():
        typer.echo(f"wrote {path}")


@app.command()
@user_errors
def demo(
    once: Annotated[bool, typer.Option(help="Exit after the slice instead of serving.")] = False,
    video: Annotated[Path | None, typer.Option(help="Clip to replay.")] = None,
    camera: Annotated[str, typer.Option(help="Camera the clip stands for.")] = "VLG-ENF-001",
) -> None:
    """Start the stack, seed, replay a real clip, index its events and serve the API."""
    from dozor.demo import run_demo

    run_demo(get_settings(), video=video, camera_id=camera, serve=not once)


# --- evidence: integrity of signed evidence packages ---------------------------------------
evidence_app = typer.Typer(no_args_is_help=True, help="Signed evidence packages.")
app.add_typer(evidence_app, name="evidence")


@evidence_app.command("verify")
@user_errors
def evidence_verify(
    event_id: Annotated[str, typer.Argument(help="Event id from the index.")],
) -> None:
    """Re-hash every evidence object at its signed version and check the signature."""
    from dozor.evidence_verify import EventNotFound, verify_event
    from dozor.signing import load_verifier
    from dozor.storage import ObjectStore
    from registry.db import session_scope

    settings = get_settings()
    try:
        with session_scope(settings.db_url) as session:
            report = verify_event(session, ObjectStore(settings), load_verifier(settings), event_id)
    except EventNotFound as exc:
        raise UserError(str(exc)) from None
    for line in report.checked:
        typer.echo(f"ok: {line}")
    for line in report.problems:
        typer.echo(f"FAIL: {line}", err=True)
    if not report.ok:
        typer.echo(f"event {event_id}: evidence verification FAILED", err=True)
        raise typer.Exit(1)
    typer.echo(f"event {event_id}: evidence intact, signed by key {report.key_id}")


# --- worker: live cameras, leased from the registry ------------------------------------------
worker_app = typer.Typer(no_args_is_help=True, help="Live-stream detector workers.")
app.add_typer(worker_app, name="worker")


@worker_app.command("run")
@user_errors
def worker_run(
    capacity: Annotated[
        int | None, typer.Option(help="Most cameras to analyse (default DOZOR_WORKER_CAPACITY).")
    ] = None,
) -> None:
    """Claim cameras by lease and analyse their live streams until SIGTERM or Ctrl-C."""
    import signal

    from detectors.worker import Worker
    from registry.app import prepare_database

    settings = get_settings()
    prepare_database(settings)
    stop = threading.Event()
    # SIGTERM drains: the frame in hand is finished, the producer flushed, leases released.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    s = Worker(settings, capacity).run(stop)
    typer.echo(
        f"worker {s.worker_id}: {s.frames} frames analysed, {s.events} events published, "
        f"{s.cameras_held} cameras held"
    )


if __name__ == "__main__":
    app()
