"""The mini-program's access token, which every call but login carries: one for all processes and hosts,
kept in the database and renewed by one caller at a time under a lease."""
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..database import write_transaction
from ..extensions import db
from ..models import WeChatAccessToken, utcnow
from .errors import Overloaded, Unavailable
from .lease import CLOCK_STEP, POLL_SECONDS, Window, lease_held, lease_lapsed, lease_until

# WeChat hands out a new token in the last 5 minutes of the old one, and keeps both working till then:
# the shared token is renewed once it has less than this left.
RENEW_AHEAD = timedelta(minutes=5)
# WeChat allows 20 forced renewals a day, 30 s apart.
FORCE_SPACING = timedelta(seconds=30)
# WeChat's access tokens live 2 hours; a longer expires_in is kept as 2 hours, so an expiry
# further ahead than that is a clock that stepped back.
TOKEN_LIFETIME = timedelta(hours=2)


@dataclass(frozen=True)
class _Copy:
    token: str
    expires_at: datetime


class SharedToken:
    """The mini-program's access token: one for every process and host, kept in the database.

    Each process keeps a copy and reads the database only when that copy has
    less than RENEW_AHEAD left, or WeChat refused it. Then one caller of all
    processes renews it: it claims the row with a compare-and-set UPDATE (a
    lease in `renewing_until`), while the others keep using the current token
    or, when there is none yet, wait for the new one. A refused token is renewed
    by force, at most once per FORCE_SPACING whatever the number of processes.
    """

    _TABLE = WeChatAccessToken.__table__

    def __init__(self, appid, fetch):
        self.appid = appid
        # fetch(force, deadline) -> (token, seconds it lives): WeChat's stable_token
        self.fetch = fetch
        self.copy = None
        # One thread of this process at a time goes to the database; the others then find its copy.
        self.lock = threading.Lock()

    def get(self, deadline):
        """The token, from this process's copy while that has over RENEW_AHEAD left."""
        copy = self.copy
        if copy and fresh(copy.expires_at, utcnow()):
            return copy.token
        return self._shared(deadline)

    def renew_refused(self, refused, deadline):
        """A token other than `refused`, which WeChat just refused: another caller's, or one renewed by force."""
        return self._shared(deadline, refused)

    def _shared(self, deadline, refused=None):
        acquired = self.lock.acquire(blocking=False)
        while not acquired:
            copy = self.copy
            if copy and copy.token != refused and copy.expires_at > utcnow():
                return copy.token  # still good while another thread of this process renews it
            left = deadline - time.monotonic()
            if left <= 0:
                raise Unavailable("no access token: this process's renewal did not end within the deadline")
            acquired = self.lock.acquire(timeout=min(POLL_SECONDS, left))
        try:
            copy = self.copy
            if copy and copy.token != refused and fresh(copy.expires_at, utcnow()):
                return copy.token  # another thread of this process has just renewed it
            return self._from_database(deadline, refused)
        finally:
            self.lock.release()

    def _from_database(self, deadline, refused):
        """The shared row's token if it is good, else the one this caller renews or waits for another to renew."""
        columns = self._TABLE.c
        query = sa.select(columns.token, columns.expires_at, columns.renewing_until, columns.forced_at).where(
            columns.appid == self.appid
        )
        while True:
            with db.engine.connect() as connection:
                row = connection.execute(query).first()
            now = utcnow()
            current = row is not None and row.token is not None and row.token != refused and row.expires_at > now
            if current:
                # Good until renewed: this process's other threads use it meanwhile.
                self._keep(row.token, row.expires_at)
                if fresh(row.expires_at, now):
                    return row.token
            force = refused is not None and row is not None and row.token == refused
            lease = self._claim(row, now, deadline, force)
            if lease:
                return self._renew(lease, force, deadline)
            renewing = row is not None and lease_held(row.renewing_until, now, deadline)
            if current:
                return row.token  # still good while another caller renews it
            if force and not renewing and forced_lately(now).holds(row.forced_at):
                ago = (now - row.forced_at).total_seconds()
                when = f"{ago:.0f} s ago" if ago >= 0 else f"{-ago:.0f} s ahead of this host's clock"
                raise Overloaded(f"access token refused, and renewed by force {when}: "
                                 f"WeChat allows one forced renewal per {FORCE_SPACING.seconds} s")
            if time.monotonic() + POLL_SECONDS >= deadline:
                raise Unavailable("no access token within the deadline: another process is renewing it")
            time.sleep(POLL_SECONDS)

    def _claim(self, row, now, deadline, force):
        """Takes the renewal for this caller: its lease (the time it ends), or None if another caller has it."""
        table, columns = self._TABLE, self._TABLE.c
        lease = lease_until(now, deadline)
        free = lease_lapsed(columns.renewing_until, now, deadline)
        if force:
            claimable = sa.and_(columns.token == row.token, forced_lately(now).misses(columns.forced_at))
            values = {"renewing_until": lease, "forced_at": now}
        else:
            claimable = due(columns, now)
            values = {"renewing_until": lease}
        try:
            with write_transaction() as connection:
                if row is None:
                    connection.execute(table.insert().values(appid=self.appid, **values))
                    return lease
                claimed = connection.execute(
                    table.update().where(columns.appid == self.appid, free, claimable).values(**values)
                ).rowcount
        except IntegrityError:  # another caller inserted the row first: it renews
            return None
        return lease if claimed == 1 else None

    def _renew(self, lease, force, deadline):
        """Asks WeChat for a token and stores it; on failure gives the lease back, so the next caller tries."""
        table, columns = self._TABLE, self._TABLE.c
        asked_at = utcnow()
        try:
            token, expires_in = self.fetch(force, deadline)
        except Exception:
            with write_transaction() as connection:
                connection.execute(
                    table.update().where(columns.appid == self.appid, columns.renewing_until == lease)
                    .values(renewing_until=None)
                )
            raise
        expires_at = asked_at + min(timedelta(seconds=expires_in), TOKEN_LIFETIME)
        with write_transaction() as connection:
            connection.execute(
                table.update().where(columns.appid == self.appid)
                .values(token=token, expires_at=expires_at, renewing_until=None)
            )
        return self._keep(token, expires_at)

    def _keep(self, token, expires_at):
        self.copy = _Copy(token, expires_at)
        return token


def _fresh_span(now):
    """The soonest (excluded) and latest (included) expiry of a token that needs no renewal yet: over RENEW_AHEAD
    left, and not more than a token lives (an expiry further ahead was stored before the clock stepped back)."""
    return now + RENEW_AHEAD, now + TOKEN_LIFETIME + CLOCK_STEP


def fresh(expires_at, now):
    """A token expiring at `expires_at` needs no renewal yet (due's opposite, to the microsecond)."""
    soonest, latest = _fresh_span(now)
    return soonest < expires_at <= latest


def due(columns, now):
    """SQL: the stored token is to be renewed: none yet, RENEW_AHEAD or less left, or an expiry from before a clock
    step: fresh's opposite, to the microsecond (at exactly RENEW_AHEAD left it is renewed)."""
    soonest, latest = _fresh_span(now)
    return sa.or_(columns.token.is_(None), columns.expires_at <= soonest, columns.expires_at > latest)


def forced_lately(now):
    """The times of a forced renewal that forbids another now: within FORCE_SPACING, and not further ahead
    than CLOCK_STEP (a renewal "forced" further ahead than a sibling's skew is from before a clock step)."""
    return Window(now - FORCE_SPACING, now + CLOCK_STEP)
