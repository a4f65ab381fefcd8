"""Files only the service account may read: the database, evidence and the data directory.

A database dump, a screenshot or an HTML snapshot can hold what a unit would not publish;
they are created 0600 in directories 0700 whatever the process umask is.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if missing; ``path`` itself ends up 0700."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):  # not ours (a mounted volume): leave it
        path.chmod(PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing, 0600 either way; a writer that truncates it later
    (SQLite, a screenshot) keeps the mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE)
    os.close(fd)
    with contextlib.suppress(PermissionError):
        path.chmod(PRIVATE_FILE)
    return path
