"""An S3 that accepts connections and never answers fails a call in seconds, not hours."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from dozor.settings import Settings
from dozor.storage import ObjectStore


def test_a_silent_s3_fails_the_call_instead_of_hanging(tmp_path: Path) -> None:
    with socket.socket() as silent:  # listens, so connects succeed; never reads or answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        settings = Settings(
            state_dir=tmp_path,
            s3_endpoint=f"127.0.0.1:{silent.getsockname()[1]}",
            s3_connect_timeout_s=0.2,
            s3_read_timeout_s=0.2,
            s3_retries=1,
        )
        outcome: list[BaseException] = []

        def put() -> None:
            try:
                ObjectStore(settings).put("VLG-CAM-001/x/overview.jpg", b"jpeg", "image/jpeg")
            except Exception as exc:
                outcome.append(exc)

        call = threading.Thread(target=put, daemon=True)
        call.start()
        # Generous: minio's defaults (5 min reads, 5 retries) would still be waiting here.
        call.join(60)
        assert not call.is_alive(), "the S3 call still hangs"
        assert outcome, "a silent S3 must fail the call"
