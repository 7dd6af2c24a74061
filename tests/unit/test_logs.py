import io
import logging
import sys

from dozor import logs


def test_log_lines_follow_stderr_when_it_is_swapped_and_closed(monkeypatch) -> None:
    logs.setup("INFO")
    log = logging.getLogger("dozor.test")
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    log.info("into the first", extra={"camera_id": "cam-1"})
    first_text = first.getvalue()
    first.close()  # what a CLI runner does with its capture buffer
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    errors: list[str] = []
    monkeypatch.setattr(logging.Handler, "handleError", lambda self, r: errors.append(r.msg))
    log.info("into the second")
    assert "into the first camera_id=cam-1" in first_text
    assert "into the second" in second.getvalue()
    assert errors == []
