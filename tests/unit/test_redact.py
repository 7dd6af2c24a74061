from __future__ import annotations

import logging

from dozor.logs import _Formatter
from dozor.redact import redact


def test_credentials_are_removed_from_urls() -> None:
    assert redact("rtsp://admin:s3cret@10.0.0.5:554/ch1") == "rtsp://***@10.0.0.5:554/ch1"
    assert redact("open http://user@host/x and rtsp://a:b@c/d") == (
        "open http://***@host/x and rtsp://***@c/d"
    )
    assert redact("rtsp://10.0.0.5:554/ch1") == "rtsp://10.0.0.5:554/ch1"


def test_log_lines_never_carry_credentials_and_carry_ids() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "opening %s", ("rtsp://admin:pw@cam/1",), None
    )
    record.camera_id = "VLG-CAM-001"
    line = _Formatter("%(message)s").format(record)
    assert "pw" not in line and "admin" not in line
    assert line.endswith("camera_id=VLG-CAM-001")
