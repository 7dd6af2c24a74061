"""All configuration, from environment variables with the DOZOR_ prefix (or a .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOZOR_", env_file=".env", extra="ignore")

    state_dir: Path = Field(Path(".dozor"), description="Embedded servers' data, logs, PIDs.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; PostgreSQL in production. Unset: SQLite in state_dir."
    )

    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_storage: Literal["s3", "memory"] = Field(
        "s3", description="Embedded broker's log storage: durable in S3, or in memory."
    )

    s3_endpoint: str = "127.0.0.1:18333"
    s3_access_key: str = "dozor"
    s3_secret_key: SecretStr = SecretStr("dozor-dev-secret")
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    s3_bucket: str = "evidence"
    presign_ttl_s: int = Field(300, gt=0, le=7 * 24 * 3600)

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

    demo_video: Path | None = Field(None, description="Clip the demo replays.")

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    worker_id: str = "detector-1"
    log_level: str = "INFO"

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.state_dir / 'dozor.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
