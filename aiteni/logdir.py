"""One process writes LOG_DIR's daily files; any other names its files after its process id.

Appends from several processes to one file are not atomic on Windows, so lines
were lost when several processes (two services, a `flask` command beside the
server) shared a LOG_DIR. The first process to lock `LOG_DIR/aiteni.lock`
writes `info-YYYY-MM-DD.log` and `error-...`; while it runs, the others write
`info-YYYY-MM-DD.<pid>.log`. The lock goes with the process that holds it.
"""
import os
import sys
from pathlib import Path

LOCK_NAME = "aiteni.lock"

# Directory -> its open, locked lock file: this process's apps (the tests make many) share its claim.
_held = {}


def _lock(stream):
    """Locks `stream` for this process without waiting; False when another process holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            stream.seek(0)  # msvcrt locks bytes from the current position: the same first byte for all
            msvcrt.locking(stream.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def file_suffix(directory):
    """"" when this process owns `directory`'s daily files, else `.<pid>` for its own files. Creates
    `directory`; OSError when it cannot be created or written (its lock file is the test)."""
    key = os.path.abspath(directory)
    if key in _held:
        return ""
    Path(key).mkdir(parents=True, exist_ok=True)
    stream = open(Path(key) / LOCK_NAME, "a+b")
    if not _lock(stream):
        stream.close()
        return f".{os.getpid()}"
    _held[key] = stream
    return ""
