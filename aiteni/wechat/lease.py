"""Leases on database rows: which caller of all processes and hosts makes a WeChat call (a token renewal,
a share code) while the others wait, and the clock-step rule every stored time is read by.

Both the access token (token.py) and the share codes (aiteni/share.py) claim rows this way.
"""
import time
from datetime import timedelta

import sqlalchemy as sa

# How often a caller waiting for another's renewal (or share code) looks at the database again.
POLL_SECONDS = 0.1
# A lease (a token renewal's, a share code's) outlives its caller's deadline by this much.
LEASE_MARGIN_SECONDS = 1.0
# A stored time further ahead than it could have been written (a lease, a forced renewal, an
# expiry) by more than this was written before this host's clock stepped back, or by a host
# whose clock is far ahead: it is not waited for. Up to this much is siblings' skew.
CLOCK_STEP = timedelta(seconds=30)


def lease_until(now, deadline):
    """When a claim on a WeChat call, taken at `now` (UTC) by a caller bound by `deadline`
    (time.monotonic()), lapses: LEASE_MARGIN_SECONDS after the caller stops waiting on WeChat."""
    return now + timedelta(seconds=max(0.0, deadline - time.monotonic()) + LEASE_MARGIN_SECONDS)


def lease_lapsed(until, now, deadline):
    """SQL: the lease ending at column `until` is over, or ends later than any lease taken up to now could
    (the clock stepped back since, CLOCK_STEP past a lease taken now): either way the next caller claims it."""
    return sa.or_(until.is_(None), until < now, until > lease_until(now, deadline) + CLOCK_STEP)


def lease_held(until, now, deadline):
    """lease_lapsed's opposite, for a value read from the database."""
    return until is not None and now <= until <= lease_until(now, deadline) + CLOCK_STEP
