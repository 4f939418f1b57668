"""Console passwords: argon2id through argon2-cffi, in its standard encoded form; never logged."""
import functools
import threading

MIN_LENGTH = 12
MAX_LENGTH = 1024


@functools.cache
def _hasher():
    """argon2-cffi's defaults (RFC 9106's second recommendation: 64 MiB, 3 passes, 4 lanes).

    Imported at the first password a console or `flask admin` command checks, not with the app:
    every API process imports this module, and few ever check a password."""
    from argon2 import PasswordHasher

    return PasswordHasher()


# Each check takes 64 MiB for a moment: at most two at once, so a burst of sign-ins cannot take
# THREADS × 64 MiB of the server's memory.
_CHECKS = threading.BoundedSemaphore(2)


@functools.cache
def _dummy():
    """Checked when the name is unknown, so an unknown name costs what a wrong password does. Made on the
    first such sign-in, not at import: a hash takes 64 MiB for a moment, and every process imports this."""
    return _hasher().hash("not-a-password-of-anyone")


def weakness(password):
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    if len(set(password)) < 4:
        return "a password needs more than a few distinct characters"
    return None


def hash_password(password):
    return _hasher().hash(password)


def verify(encoded, password):
    """Whether `password` matches `encoded` (None: no account, checked against a dummy all the same)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        with _CHECKS:
            return _hasher().verify(encoded or _dummy(), password) and encoded is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(encoded):
    return _hasher().check_needs_rehash(encoded)
