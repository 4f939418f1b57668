"""The NTRP self-evaluation: the question bank (bank.py), its scoring (scoring.py, pure), the checks
a bank must pass (check.py), a sitting scored and kept as the player's record (sittings.py), the
records (records.py) and every /api/evaluation/ endpoint (views.py).
"""
import logging
from functools import lru_cache
from pathlib import Path

from flask import current_app

from . import bank as bank_file
from .bank import BankError
from .check import problems

log = logging.getLogger(__name__)

# Random answer sets the monotonicity search tries at start (`flask questions check` tries more).
STARTUP_SAMPLES = 150


@lru_cache(maxsize=8)
def _checked(path, _mtime_ns, _size):
    """The bank at `path`, loaded and checked once per version of the file in this process."""
    bank = bank_file.load(path)
    found = problems(bank, STARTUP_SAMPLES)
    if found:
        raise BankError(f"{path}: {found[0]} (flask --app wsgi questions check {path})")
    return bank


def load_bank(path):
    """The checked bank at `path` (the shipped one when None); BankError when it is unusable."""
    path = Path(path or bank_file.DEFAULT_FILE)
    try:
        stat = path.stat()
    except OSError as error:
        raise BankError(f"{path}: cannot read the file ({error.strerror})") from None
    return _checked(str(path), stat.st_mtime_ns, stat.st_size)


def current_bank():
    return current_app.extensions["aiteni.bank"]


def init_app(app):
    app.extensions["aiteni.bank"] = load_bank(app.config["QUESTIONS_FILE"])
    if app.config.get("QUESTIONS_VERSION"):
        log.warning("QUESTIONS_VERSION is ignored: the question bank's own version is questions_version")
