"""Leases on database rows: which caller of all processes and hosts makes a WeChat call (a token renewal,
a share code) while the others wait, and the clock-step rule every stored time is read by.

Both the access token (token.py) and the share codes (aiteni/share.py) claim rows this way; each
states a rule once, as a `Window`, which gives it in Python and in SQL alike.
"""
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

# How often a caller waiting for another's renewal (or share code) looks at the database again.
POLL_SECONDS = 0.1
# A lease (a token renewal's, a share code's) outlives its caller's deadline by this much.
LEASE_MARGIN_SECONDS = 1.0
# A stored time further ahead than it could have been written (a lease, a forced renewal, an
# expiry) by more than this was written before this host's clock stepped back, or by a host
# whose clock is far ahead: it is not waited for. Up to this much is siblings' skew.
CLOCK_STEP = timedelta(seconds=30)


@dataclass(frozen=True)
class Window:
    """The times from `start` to `end`, both included: one rule read in Python (`holds`, a value read from the
    database) and in SQL (`misses`, a column in a WHERE), so that the two cannot drift apart."""

    start: datetime
    end: datetime

    def holds(self, value):
        return value is not None and self.start <= value <= self.end

    def misses(self, column):
        """SQL: `holds`' opposite, NULL included."""
        return sa.or_(column.is_(None), column < self.start, column > self.end)


def lease_until(now, deadline):
    """When a claim on a WeChat call, taken at `now` (UTC) by a caller bound by `deadline`
    (time.monotonic()), lapses: LEASE_MARGIN_SECONDS after the caller stops waiting on WeChat."""
    return now + timedelta(seconds=max(0.0, deadline - time.monotonic()) + LEASE_MARGIN_SECONDS)


def _held(now, deadline):
    """A lease is held while it is not over and ends no later than any lease taken up to now could
    (one further ahead, CLOCK_STEP past a lease taken now, was taken before the clock stepped back)."""
    return Window(now, lease_until(now, deadline) + CLOCK_STEP)


def lease_lapsed(until, now, deadline):
    """SQL: the lease ending at column `until` is over, or is from before a clock step: the next caller claims it."""
    return _held(now, deadline).misses(until)


def lease_held(until, now, deadline):
    """lease_lapsed's opposite, for a value read from the database."""
    return _held(now, deadline).holds(until)
