"""Keys generated on first use (demo, development): written once, private, never replaced."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def ensure_key_file(path: Path, generate: Callable[[], bytes]) -> Path:
    """Create ``path`` (mode 0600) holding ``generate()`` unless it exists already.

    The key is written beside the target and linked into place, so a reader never sees a
    half-written file, and two processes starting together both end up with the first key.
    """
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(generate())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path
