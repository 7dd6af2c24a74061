"""All configuration, from environment variables with the DOZOR_ prefix (or a .env file)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOZOR_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = Field(
        "development",
        description="production: every process refuses to start when a key or secret would be "
        "generated or is a default (dozor/production.py).",
    )
    state_dir: Path = Field(Path(".dozor"), description="Embedded servers' data, logs, PIDs.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; PostgreSQL in production. Unset: SQLite in state_dir."
    )

    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_storage: Literal["s3", "memory"] = Field(
        "s3", description="Embedded broker's log storage: durable in S3, or in memory."
    )
    kafka_replication_factor: int = Field(
        1, ge=1, description="Replicas of each topic `dozor setup` creates (3 in production)."
    )
    kafka_partitions: dict[str, int] = Field(
        default_factory=dict,
        description="Partitions per topic `dozor setup` creates, over contract/topics.py's.",
    )
    # Who may write to the bus is who may claim to be a detector: production Kafka needs
    # authentication (docs/trust.md has the ACL plan). Every client takes these (dozor/bus.py).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="PLAINTEXT only for the embedded broker; SASL_SSL in production."
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_username: str | None = None
    kafka_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = Field(None, description="CA bundle that signed the brokers.")
    kafka_ssl_certfile: Path | None = Field(None, description="Client certificate (mTLS).")
    kafka_ssl_keyfile: Path | None = Field(None, description="Client certificate's key.")

    s3_endpoint: str = "127.0.0.1:18333"
    s3_access_key: str = "dozor"
    s3_secret_key: SecretStr = SecretStr("dozor-dev-secret")
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    s3_bucket: str = "evidence"
    s3_connect_timeout_s: float = Field(5.0, gt=0, description="Connecting to S3.")
    s3_read_timeout_s: float = Field(
        30.0, gt=0, description="Waiting for S3's answer (an evidence clip is ~1 MB)."
    )
    s3_retries: int = Field(3, ge=0, description="Tries of an S3 call after a timeout or 5xx.")
    presign_ttl_s: int = Field(300, gt=0, le=7 * 24 * 3600)
    evidence_retention_days: int = Field(
        1825, ge=1, description="Object-lock retention of every evidence object and manifest."
    )
    evidence_retention_mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(
        "GOVERNANCE",
        description="GOVERNANCE: privileged users may bypass; COMPLIANCE: nobody may delete early.",
    )
    signing_key_path: Path | None = Field(
        None,
        description="PEM Ed25519 private key signing evidence manifests. Unset: one is generated "
        "and kept in state_dir (demo and tests only).",
    )
    signing_public_key_path: Path | None = Field(
        None,
        description="PEM public key for processes that only verify (API, case consumer), so "
        "the private key lives with the evidence consumer alone. Unset: derived from the "
        "private key.",
    )

    detector_key_file: Path | None = Field(
        None,
        description="PEM Ed25519 private key this detector worker signs its events with "
        "(`dozor detector enroll` writes it). Unset: state_dir/detector-keys/<worker id>.pem, "
        "generated on first use (demo and tests only).",
    )
    lease_clock_skew_s: float = Field(
        5.0,
        ge=0,
        description="Slack when an event's time is judged against the lease history: worker "
        "clocks date events, the database's clock dates leases.",
    )

    # Ports of the embedded SeaweedFS besides its S3 port; its gRPC ports are these + 10000.
    weed_master_port: int = 19333
    weed_volume_port: int = 19340
    weed_filer_port: int = 18888

    model: str = Field(
        "yolo11n.pt",
        description="Ultralytics model name (downloads where online) or a path to weights.",
    )
    confidence: float = Field(0.25, gt=0, lt=1)
    imgsz: int = 640
    tracker: str = "bytetrack.yaml"
    yolo_config_dir: Path | None = None
    models_cache: Path | None = Field(
        None,
        description="Where the OpenVINO / ONNX exports of DOZOR_MODEL are built and kept "
        "(once per checkpoint, shared by the processes that point here). Unset: "
        "state_dir/models.",
    )
    # Detector backend by type key (detectors/backends/registry.py); each backend reads its
    # own options from DOZOR_<KEY>_* (e.g. DOZOR_OPENVINO_THREADS).
    backend: Literal["auto", "ultralytics", "openvino", "onnxruntime", "litert", "torch"] = Field(
        "auto",
        description="Who runs the detector: auto (litert for a .tflite, openvino for a .pt, "
        "else ultralytics), litert (a .tflite), openvino or onnxruntime (the export of a "
        ".pt), torch (a .pt on a GPU), ultralytics (any weights it loads).",
    )

    demo_video: Path | None = Field(None, description="Clip the demo replays.")

    # `dozor replay` of many files (detectors/archive.py), on Ray.
    replay_cpus: int | None = Field(
        None,
        ge=1,
        description="CPUs of the local Ray that `dozor replay` starts for many files (one file "
        "per CPU at a time); unset: every core. Not used when RAY_ADDRESS names a cluster.",
    )

    # `dozor eval`: labelled clips and the hand labels that score the rules on them.
    media_dir: Path = Field(Path("../shared/media"), description="Footage `dozor eval` replays.")
    ground_truth_dir: Path = Field(
        Path("tests/ground_truth"), description="Hand labels, one <clip-stem>.json per clip."
    )

    # Live-stream detector workers (detectors/worker.py).
    worker_capacity: int = Field(8, ge=1, description="Cameras one worker analyses at most.")
    # Red-light crossings need ~8 analysed fps to be tracked through the stop line: on
    # redlight_cam_intersection3 the pickup was found at 8 fps and lost at 4.8 fps.
    analysis_fps: float = Field(8.0, gt=0, description="Frames analysed per second per camera.")
    worker_batch_max: int = Field(16, ge=1, description="Most frames in one inference batch.")
    worker_queue_frames: int = Field(2, ge=1, description="Decoded frames waiting per camera.")
    worker_metrics_port: int = Field(9400, ge=0, description="Prometheus /metrics; 0 = off.")
    consumer_metrics_port: int = Field(
        0, ge=0, description="Prometheus /metrics of `dozor consume ...`; 0 = off."
    )
    consumer_max_retries: int = Field(
        20,
        ge=0,
        description="Tries of a message failing transiently (S3, database, broker down) "
        "before it is dead-lettered; `dozor dlq replay` re-drives it once the fault is fixed.",
    )
    consumer_backoff_max_s: float = Field(30.0, gt=0, description="Longest wait between tries.")
    lease_ttl_s: float = Field(15.0, gt=0, description="A dead worker's cameras move after this.")
    heartbeat_interval_s: float = Field(10.0, gt=0)
    max_failed_findings: int = Field(
        16,
        ge=1,
        description="Findings of one camera that failed to publish (S3 or Kafka down) before "
        "its analysis pauses until they are out; each holds seconds of frames in memory.",
    )
    stream_open_timeout_s: float = Field(5.0, gt=0)
    stream_read_timeout_s: float = Field(5.0, gt=0)
    stream_backoff_initial_s: float = Field(0.5, gt=0)
    stream_backoff_max_s: float = Field(30.0, gt=0)
    stream_lost_after_s: float = Field(10.0, gt=0, description="Gap that makes a stream lost.")
    stream_ffmpeg_options: str = Field(
        "rtsp_transport;tcp|analyzeduration;0|probesize;32768|fflags;nobuffer",
        description="OPENCV_FFMPEG_CAPTURE_OPTIONS for live streams: no start-up backlog.",
    )

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    token_ttl_days: float | None = Field(
        90,
        gt=0,
        description="Lifetime of a token `dozor registry token` issues without --ttl; "
        "unset: until revoked.",
    )
    # Checked before a body is read (registry/limits.py): larger ones get 413 unread.
    api_max_body_bytes: int = Field(1024 * 1024, gt=0, description="Largest request body.")
    api_max_upload_bytes: int = Field(
        24 * 1024 * 1024,
        gt=0,
        description="Largest body of a camera import or a reference-frame upload.",
    )
    worker_id: str = "detector-1"
    log_level: str = "INFO"

    # Enforcement cases: delivery to a downstream system (docs/cases.md).
    enforcement_endpoint: str | None = Field(
        None, description="URL cases are POSTed to. Unset: cases go to Kafka only."
    )
    enforcement_token: SecretStr | None = Field(
        None, description="Bearer token sent to the enforcement endpoint."
    )
    delivery_timeout_s: float = Field(10, gt=0, description="One POST's timeout.")
    delivery_attempts: int = Field(
        6, ge=1, description="POSTs per try before the consumer backs off and tries again."
    )
    delivery_backoff_s: float = Field(0.5, gt=0, description="First retry delay; doubles.")
    delivery_backoff_max_s: float = Field(30, gt=0)
    case_url_ttl_s: int = Field(
        7 * 24 * 3600,
        gt=0,
        le=7 * 24 * 3600,
        description="Lifetime of the presigned evidence URLs inside a delivered case.",
    )

    # Registry: stream-credential encryption and camera health thresholds.
    secret_key: SecretStr | None = Field(
        None,
        description=(
            "Fernet key (urlsafe base64, 32 bytes) encrypting stream credentials. Unset: one "
            "is generated on first use and kept in state_dir/secret.key (demo and dev only)."
        ),
    )
    health_offline_after_s: float = Field(
        60, gt=0, description="No heartbeat for this long: the camera is offline."
    )
    health_stale_frame_s: float = Field(
        10, gt=0, description="Last decoded frame older than this: degraded."
    )
    health_min_fps: float = Field(1.0, ge=0, description="Analysed fps below this: degraded.")
    health_max_errors: int = Field(
        0, ge=0, description="More errors than this since the previous heartbeat: degraded."
    )

    # Commissioning and the page (issue 10): where recordings for reference frames and
    # previews lie, how the page shows times, and which map tiles it may load.
    recordings_dir: Path | None = Field(
        None, description="Recordings offered for reference frames and previews; unset: media_dir."
    )
    ui_time_zone: str = Field("Europe/Volgograd", description="Time zone the page shows times in.")
    map_tile_url: str | None = Field(
        None, description="XYZ tile URL for the page's map; unset: a plain background, no requests."
    )
    map_attribution: str | None = None
    live_grab_timeout_s: float = Field(8.0, gt=0, description="Wait for one live frame.")
    preview_timeout_s: float = Field(900, gt=0, description="Longest a scene preview may run.")
    preview_max_running: int = Field(1, ge=1, description="Scene previews running at once.")

    @model_validator(mode="after")
    def _kafka_credentials(self) -> Settings:
        if self.kafka_security_protocol.startswith("SASL") and not (
            self.kafka_username and self.kafka_password
        ):
            raise ValueError(
                f"DOZOR_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "DOZOR_KAFKA_USERNAME and DOZOR_KAFKA_PASSWORD"
            )
        return self

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.state_dir / 'dozor.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def child_env(settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of a child `dozor` process that must run with ``settings``: each field
    as these settings hold it (unset ones left to the child's defaults); every other variable
    of ``environ`` as it is, the DOZOR_* ones that are no field too: those are the detector
    backends' own options (DOZOR_OPENVINO_INT8, DOZOR_TORCH_DEVICE, ...), without which the
    child would run another engine than its parent."""
    fields = {f"DOZOR_{name.upper()}" for name in Settings.model_fields}
    env = {k: v for k, v in environ.items() if k not in fields}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"DOZOR_{name.upper()}"] = (
            json.dumps(value) if isinstance(value, dict | list) else str(value)
        )
    return env
