"""The ``dozor`` command."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer

from dozor import logs
from dozor.errors import UserError
from dozor.production import refuse_defaults
from dozor.settings import Settings, get_settings

app = typer.Typer(no_args_is_help=True, help="Dozor: traffic cameras to verified evidence.")
stack_app = typer.Typer(no_args_is_help=True, help="Embedded S3 and Kafka-protocol servers.")
registry_app = typer.Typer(no_args_is_help=True, help="The camera registry and its API.")
consume_app = typer.Typer(no_args_is_help=True, help="Run a consumer.")
schema_app = typer.Typer(no_args_is_help=True, help="The event contract's JSON Schema files.")
dlq_app = typer.Typer(no_args_is_help=True, help="The dead-letter topic.")
app.add_typer(stack_app, name="stack")
app.add_typer(registry_app, name="registry")
app.add_typer(consume_app, name="consume")
app.add_typer(schema_app, name="schema")
app.add_typer(dlq_app, name="dlq")


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
    settings = get_settings()
    logs.setup(settings.log_level)
    try:
        refuse_defaults(settings)
    except UserError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@stack_app.command("up")
@user_errors
def stack_up() -> None:
    """Start SeaweedFS (S3) and Tansu (Kafka protocol) on 127.0.0.1."""
    from dozor_cli.stack import Stack

    stack = Stack(get_settings())
    stack.up()
    for name, st in stack.status().items():
        typer.echo(f"{name}: pid {st['pid']} ports {st['ports']} ready={st['ready']}")


@stack_app.command("down")
@user_errors
def stack_down() -> None:
    """Stop the embedded servers (their data stays in the state directory)."""
    from dozor_cli.stack import Stack

    Stack(get_settings()).down()
    typer.echo("stack stopped")


@stack_app.command("status")
def stack_status() -> None:
    from dozor_cli.stack import Stack

    for name, st in Stack(get_settings()).status().items():
        typer.echo(f"{name}: pid {st['pid']} ports {st['ports']} ready={st['ready']}")


@registry_app.command("serve")
@user_errors
def registry_serve(
    port: Annotated[int | None, typer.Option(help="Port (default DOZOR_API_PORT).")] = None,
) -> None:
    """Serve the registry API and page (run `dozor registry migrate` or `dozor setup` first)."""
    import uvicorn

    from registry.app import create_app

    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.api_host, port=port or settings.api_port)


@registry_app.command("migrate")
def registry_migrate() -> None:
    """Migrate the database to the newest schema and seed an empty registry (idempotent)."""
    from registry.bootstrap import prepare_database

    prepare_database(get_settings())
    typer.echo("registry database is up to date")


@app.command("setup")
@user_errors
def setup() -> None:
    """Once per rollout: migrate and seed the registry, create the topics and the bucket."""
    from dozor_cli.bootstrap import set_up

    set_up(get_settings())
    typer.echo("registry migrated, topics and evidence bucket in place")


token_app = typer.Typer(help="API bearer tokens: issue (no subcommand), list, revoke.")
registry_app.add_typer(token_app, name="token")

_TTL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _ttl(text: str) -> timedelta | None:
    """``90d``, ``12h``, ``30m``, ``45s``; ``never`` for a token valid until revoked."""
    if text == "never":
        return None
    number, unit = text[:-1], text[-1:]
    if unit not in _TTL_UNITS or not number.isdigit() or int(number) == 0:
        raise UserError(f"--ttl {text!r}: a positive number with s, m, h or d, or 'never'")
    return timedelta(seconds=int(number) * _TTL_UNITS[unit])


@token_app.callback(invoke_without_command=True)
@user_errors
def registry_token(
    ctx: typer.Context,
    role: Annotated[
        str | None, typer.Option(help="viewer, operator, admin, enforcement or detector")
    ] = None,
    name: Annotated[
        str, typer.Option(help="Who or what holds the token; a detector's: its worker id.")
    ] = "cli",
    ttl: Annotated[
        str | None,
        typer.Option(help="Lifetime, e.g. 90d, 12h or never (default DOZOR_TOKEN_TTL_DAYS)."),
    ] = None,
) -> None:
    """Issue a bearer token for a role; it is printed once and stored only as a hash."""
    if ctx.invoked_subcommand is not None:
        return
    from registry.auth import Role, issue_token
    from registry.db import session_scope

    if role is None:
        raise UserError("--role is required to issue a token")
    try:
        chosen = Role(role)
    except ValueError:
        raise UserError(f"unknown role {role!r}; one of {[r.value for r in Role]}") from None
    settings = get_settings()
    if ttl is not None:
        lifetime = _ttl(ttl)
    elif settings.token_ttl_days is not None:
        lifetime = timedelta(days=settings.token_ttl_days)
    else:
        lifetime = None
    with session_scope(settings.db_url) as session:
        token = issue_token(session, chosen, name, lifetime)
    typer.echo(token)


@token_app.command("list")
def token_list() -> None:
    """Every token issued: id, role, holder, created, expires, revoked (never the token)."""
    from registry.auth import list_tokens
    from registry.db import session_scope

    with session_scope(get_settings().db_url) as session:
        for t in list_tokens(session):
            typer.echo(
                f"{t.id}\t{t.role}\t{t.name}\tcreated {t.created_at:%Y-%m-%dT%H:%M:%SZ}"
                f"\texpires {t.expires_at or 'never'}\trevoked {t.revoked_at or '-'}"
            )


@token_app.command("revoke")
@user_errors
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The id `token list` shows.")],
) -> None:
    """Refuse a token from now on (its holder gets 401)."""
    from registry.auth import revoke_token
    from registry.db import session_scope

    with session_scope(get_settings().db_url) as session:
        row = revoke_token(session, token_id)
        if row is None:
            raise UserError(f"no token with id {token_id}")
        typer.echo(f"revoked token {row.id} ({row.role}, {row.name})")


@app.command()
@user_errors
def replay(
    path: Annotated[
        Path,
        typer.Argument(
            help="A video file; a directory of them (all one --camera); or a manifest .csv "
            "with the columns file,camera_id,started_at."
        ),
    ],
    camera: Annotated[
        str | None,
        typer.Option(
            "--camera", help="Registry camera id of a file or directory, e.g. VLG-ENF-001"
        ),
    ] = None,
    started_at: Annotated[
        str | None,
        typer.Option(
            "--started-at",
            help="When a single file's first frame was recorded, ISO 8601 with a UTC offset "
            "(default: the file's modification time).",
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress.")] = True,
    every_frame: Annotated[
        bool,
        typer.Option(
            "--every-frame", help="Analyse every frame, not DOZOR_ANALYSIS_FPS as live cameras do."
        ),
    ] = False,
) -> None:
    """Replay recorded video through detection -> evidence -> Kafka.

    Many files (a directory or a manifest) run on Ray, one task per file: a local Ray on
    DOZOR_REPLAY_CPUS cores, or the cluster RAY_ADDRESS names. Files replayed to the end
    before (same content, camera, scene, model and start) are skipped."""
    from rich.console import Console

    from detectors import archive
    from registry.link import DatabaseLink

    settings = get_settings()
    show = progress and sys.stderr.isatty()
    console = Console(width=160)
    if path.is_dir() or path.suffix.lower() == ".csv":
        if path.is_dir():
            if camera is None:
                raise UserError("--camera is required: every file of a directory is one camera")
            recordings = archive.recordings_in(path, camera)
        elif camera is not None:
            raise UserError("a manifest names each file's camera: drop --camera")
        else:
            recordings = archive.read_manifest(path)
        if started_at is not None:
            raise UserError("--started-at goes with a single file; a manifest times each file")
        from dozor_cli.tables import archive_table

        results = archive.replay_archive(
            settings,
            recordings,
            link=DatabaseLink(settings),
            every_frame=every_frame,
            progress=show,
        )
        console.print(archive_table(results))
        failed = [r for r in results if r.status is archive.Status.FAILED]
        for r in failed:
            typer.echo(f"failed: {r.recording.where}: {r.error}", err=True)
        if failed:
            raise typer.Exit(1)
        return
    if camera is None:
        raise UserError("--camera is required to replay a file")
    from detectors.replay import replay as run_replay
    from dozor_cli.tables import events_table, row_of_event

    s = run_replay(
        settings,
        path,
        camera,
        link=DatabaseLink(settings),
        progress=show,
        every_frame=every_frame,
        started_at=None if started_at is None else archive.parse_started_at(started_at),
    )
    typer.echo(
        f"camera {s.camera_id}: {s.frames} frames in {s.seconds:.1f}s ({s.fps:.1f} fps), "
        f"{s.detections} detections, {s.events} events published"
    )
    console.print(events_table(map(row_of_event, s.published), f"{s.camera_id}: events"))


@app.command("eval")
@user_errors
def eval_rules(
    clips: Annotated[
        list[str] | None, typer.Argument(help="Clip stems to score (default: every labelled one).")
    ] = None,
    clip: Annotated[
        Path | None,
        typer.Option("--clip", help="Any video file; needs --scene. No registry is used."),
    ] = None,
    scene: Annotated[
        Path | None, typer.Option("--scene", help="Scene file for --clip (SceneConfig JSON).")
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option("--labels", help="Label file for --clip (as in tests/ground_truth)."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the events and scores here.")
    ] = None,
    every_frame: Annotated[
        bool,
        typer.Option(
            "--every-frame", help="Analyse every frame, not DOZOR_ANALYSIS_FPS as live cameras do."
        ),
    ] = False,
) -> None:
    """Run clips through detection, tracking and the rules (no registry, Kafka or S3): the
    events each raised and, against labels, precision, recall and time error per rule and
    per clip. Clips are analysed at DOZOR_ANALYSIS_FPS, as live cameras are.

    Without --clip: the labelled shared clips (by stem) with their seed scenes."""
    import json

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeRemainingColumn,
    )

    from detectors.eval import Evaluator, result_json, score_json, scored, total
    from dozor_cli.tables import (
        clip_scores_table,
        clips_table,
        events_table,
        row_of_finding,
        scores_table,
    )

    if clip is None and (scene is not None or labels is not None):
        raise UserError("--scene and --labels go with --clip")
    if clip is not None and (scene is None or clips):
        raise UserError("--clip needs --scene, and no clip stems")
    if json_out is not None and not json_out.parent.is_dir():
        raise UserError(f"cannot write {json_out}: no such directory")
    evaluator = Evaluator(get_settings(), every_frame=every_frame)
    console = Console(width=160)
    results = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as bar:

        def progress(name: str) -> Callable[[int, int | None], None]:
            task: TaskID = bar.add_task(name, total=None)
            return lambda done, total: bar.update(task, completed=done, total=total)

        if clip is not None and scene is not None:
            results.append(
                evaluator.evaluate_clip(clip, scene, labels, on_frame=progress(clip.name))
            )
        else:
            for video in evaluator.clips(clips):
                results.append(evaluator.evaluate(video, on_frame=progress(video.stem)))
    for r in results:
        console.print(events_table(map(row_of_finding, (p.finding for p in r.predicted)), r.clip))
        if clip is not None and r.labelled:
            console.print(scores_table(scored(r)))
    if clip is None:
        console.print(scores_table(total(results), "dozor eval: per rule"))
        console.print(clip_scores_table(results))
        console.print(clips_table(results))
    if json_out is not None:
        payload: object = (
            result_json(results[0], scene)
            if clip is not None
            else {
                "clips": [result_json(r) for r in results],
                "scores": score_json(total(results)),
            }
        )
        try:
            json_out.write_text(json.dumps(payload, indent=1) + "\n")
        except OSError as exc:
            raise UserError(f"cannot write {json_out}: {exc.strerror}") from None


UntilIdle = Annotated[
    float | None, typer.Option(help="Exit after this many seconds without messages.")
]


def _consume(make_handler: Callable[[Settings], Any], until_idle: float | None) -> None:
    """Run one consumer until SIGTERM/Ctrl-C (or idle), finishing the message in hand."""
    import signal

    from consumers.loop import ConsumerLoop

    settings = get_settings()
    stop = threading.Event()
    if settings.consumer_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.consumer_metrics_port, addr=settings.api_host)
    handler = make_handler(settings)
    # A handler waiting out a backoff (delivery retries) is woken too, not just the loop.
    interrupt = getattr(handler, "interrupt", lambda: None)

    def on_signal(*_: object) -> None:
        stop.set()
        interrupt()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
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
    from registry.case_book import DatabaseCaseBook

    _consume(lambda s: EnforcementConsumer(s, cases=DatabaseCaseBook(s)), until_idle)


cases_app = typer.Typer(no_args_is_help=True, help="Enforcement cases.")
app.add_typer(cases_app, name="cases")


@cases_app.command("redeliver")
@user_errors
def cases_redeliver() -> None:
    """Send again every enforceable case not yet delivered (after fixing the endpoint or its
    token); exit status 1 while some still fail."""
    from consumers.enforcement import EnforcementConsumer
    from registry.case_book import DatabaseCaseBook

    settings = get_settings()
    if not settings.enforcement_endpoint:
        raise UserError("DOZOR_ENFORCEMENT_ENDPOINT is not set")
    consumer = EnforcementConsumer(settings, cases=DatabaseCaseBook(settings))
    try:
        delivered, failed = consumer.redeliver()
    finally:
        consumer.close()
    typer.echo(f"delivered {delivered}, still failing {failed}")
    if failed:
        raise typer.Exit(1)


@dlq_app.command("replay")
@user_errors
def dlq_replay(
    group: Annotated[
        str | None, typer.Option(help="Only dead letters of this consumer group.")
    ] = None,
    idle: Annotated[float, typer.Option(help="Stop after this many seconds without any.")] = 3.0,
) -> None:
    """Send dead letters back to the topic they came from, once the fault is fixed."""
    from consumers.dlq import replay_dead_letters

    stats = replay_dead_letters(get_settings(), group=group, idle_s=idle)
    typer.echo(f"replayed {stats.replayed}, skipped {stats.skipped}")


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
    from dozor_cli.demo import run_demo

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
    from dozor.storage import ObjectStore
    from evidence.signing import load_verifier
    from evidence.verify import EventNotFound, verify_event
    from registry.db import session_scope
    from registry.models import EventRecord

    settings = get_settings()
    try:
        with session_scope(settings.db_url) as session:
            row = session.get(EventRecord, event_id)
            report = verify_event(row, ObjectStore(settings), load_verifier(settings), event_id)
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
    from registry.link import DatabaseLink

    settings = get_settings()
    stop = threading.Event()
    # SIGTERM drains: the frame in hand is finished, the producer flushed, leases released.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    s = Worker(settings, DatabaseLink(settings), capacity).run(stop)
    typer.echo(
        f"worker {s.worker_id}: {s.frames} frames analysed, {s.events} events published, "
        f"{s.cameras_held} cameras held"
    )


# --- camera and scene: commissioning from files (docs/commissioning.md) ----------------------
detector_app = typer.Typer(no_args_is_help=True, help="Detector workers' signing keys.")
app.add_typer(detector_app, name="detector")
CLI_ADMIN_NAME = "cli"


@detector_app.command("enroll")
@user_errors
def detector_enroll(
    worker_id: Annotated[str, typer.Argument(help="The worker's DOZOR_WORKER_ID.")],
    replay: Annotated[
        bool,
        typer.Option(
            "--replay",
            help="A replay key: recordings replayed as any camera, no lease needed. Enrol "
            "only hosts that replay.",
        ),
    ] = False,
) -> None:
    """Issue a worker its key pair (private key to DOZOR_DETECTOR_KEY_FILE, else the
    state directory) and register the public key; audited. An existing key file is kept."""
    from registry.audit import Actor
    from registry.auth import Role
    from registry.db import session_scope
    from registry.detector_keys import KeyRejected, KeyScope, enroll

    settings = get_settings()
    scope = KeyScope.REPLAY if replay else KeyScope.LIVE
    with session_scope(settings.db_url) as session:
        try:
            row, path = enroll(
                session, Actor(CLI_ADMIN_NAME, Role.ADMIN), settings, worker_id, scope
            )
        except KeyRejected as exc:
            raise UserError(str(exc)) from None
        key_id = row.key_id
    typer.echo(f"worker {worker_id}: {scope} key {key_id} registered, private key in {path}")


@detector_app.command("keys")
def detector_keys_list() -> None:
    """Every registered detector key, revoked ones included."""
    from registry.db import session_scope
    from registry.detector_keys import listed

    with session_scope(get_settings().db_url) as session:
        for row in listed(session):
            state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
            typer.echo(f"{row.key_id}  {row.worker_id}  {row.scope}  {state}")


@detector_app.command("revoke")
@user_errors
def detector_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's fingerprint (dozor detector keys).")],
) -> None:
    """Revoke a detector key: its events are dead-lettered from now on; audited."""
    from registry.audit import Actor
    from registry.auth import Role
    from registry.db import session_scope
    from registry.detector_keys import revoke

    with session_scope(get_settings().db_url) as session:
        if revoke(session, Actor(CLI_ADMIN_NAME, Role.ADMIN), key_id) is None:
            raise UserError(f"no detector key {key_id}")
    typer.echo(f"key {key_id} revoked")


camera_app = typer.Typer(no_args_is_help=True, help="Cameras and enforcement units from files.")
scene_app = typer.Typer(no_args_is_help=True, help="Scene configs: set from a file, draw.")
app.add_typer(camera_app, name="camera")
app.add_typer(scene_app, name="scene")
UnitsFile = Annotated[
    Path, typer.Argument(help="JSON or YAML: one camera, a list, or {cameras: [...]}.")
]


def _saved(created: int, updated: int, unchanged: int) -> None:
    typer.echo(f"{created} created, {updated} updated, {unchanged} unchanged")


@camera_app.command("add")
@user_errors
def camera_add(file: UnitsFile) -> None:
    """Add the cameras in FILE (all or none; an id that exists is an error)."""
    from dozor_cli.commission import save_cameras

    _saved(*save_cameras(get_settings(), file, update=False))


@camera_app.command("update")
@user_errors
def camera_update(file: UnitsFile) -> None:
    """Change the cameras in FILE (fields left out stay as they are; all or none)."""
    from dozor_cli.commission import save_cameras

    _saved(*save_cameras(get_settings(), file, update=True))


@scene_app.command("set")
@user_errors
def scene_set(
    camera: Annotated[str, typer.Argument(help="Camera id, e.g. VLG-CAM-095.")],
    file: Annotated[Path, typer.Argument(help="Scene config, JSON or YAML.")],
    frame: Annotated[
        Path | None,
        typer.Option("--frame", help="Image or video of the view, kept as the reference frame."),
    ] = None,
    t: Annotated[float, typer.Option("--t", help="Seconds into a video frame.")] = 0.0,
) -> None:
    """Add the scene in FILE as the camera's newest version (older ones stay)."""
    from dozor_cli.commission import set_scene

    version = set_scene(get_settings(), camera, file, frame, t)
    typer.echo(f"camera {camera}: scene version {version}")


@scene_app.command("show")
@user_errors
def scene_show(
    camera: Annotated[str, typer.Argument(help="Camera id whose current scene is drawn.")],
    frame: Annotated[Path, typer.Option("--frame", help="An image or video of the view.")],
    out: Annotated[Path, typer.Option("--out", help="PNG (or JPEG) to write.")],
    t: Annotated[float, typer.Option("--t", help="Seconds into a video frame.")] = 0.0,
    scene_file: Annotated[
        Path | None, typer.Option("--scene", help="Draw this scene file instead.")
    ] = None,
) -> None:
    """Draw the scene over a frame: zones by kind, stop lines with their approach side,
    signal boxes, lanes, the speed segment and calibration points."""
    from dozor_cli.commission import camera_scene, load_scene, show_scene

    if scene_file is not None:
        version, scene = None, load_scene(scene_file)
    else:
        version, scene = camera_scene(get_settings(), camera)
    show_scene(scene, frame, out, t)
    what = f"scene version {version}" if version else f"scene {scene_file}"
    typer.echo(f"camera {camera}: {what} drawn over {frame.name} -> {out}")


if __name__ == "__main__":
    app()


# -- detector models (engine) ------------------------------------------------------------
model_app = typer.Typer(no_args_is_help=True, help="Detector networks for the self-run backends.")
app.add_typer(model_app, name="model")


@model_app.command("export")
@user_errors
def model_export(
    fmt: Annotated[str, typer.Option("--format", help="openvino or onnx.")] = "openvino",
    checkpoint: Annotated[
        Path | None, typer.Option(help="A .pt or .tflite checkpoint (default DOZOR_MODEL).")
    ] = None,
    int8: Annotated[bool, typer.Option("--int8", help="Quantise with NNCF (OpenVINO).")] = False,
    calibration: Annotated[
        Path | None, typer.Option(help="Clips or images of our cameras to calibrate INT8 on.")
    ] = None,
) -> None:
    """Build (offline) the network DOZOR_BACKEND=openvino|onnxruntime loads, cached by the
    checkpoint's hash in DOZOR_MODELS_CACHE (default DOZOR_STATE_DIR/models), where the
    workers find it ready (an INT8 calibration then costs a rollout, not each worker's start).
    An INT8 export given other calibration clips than it was built on is built again."""
    from detectors.backends.export import exported
    from detectors.backends.network import models_cache
    from detectors.errors import DetectorInputError

    if fmt not in ("openvino", "onnx"):
        raise DetectorInputError(f"--format must be openvino or onnx, not {fmt!r}")
    settings = get_settings()
    network = exported(
        checkpoint or Path(settings.model),
        "openvino" if fmt == "openvino" else "onnx",
        models_cache(settings),
        int8=int8,
        calibration=calibration,
        imgsz=settings.imgsz,
    )
    typer.echo(f"{network.path} (sha256 {network.sha256})")
