"""The clock-step rules read both in SQL (which row an UPDATE claims) and in Python (what a value read back
means) give one answer both ways, on the database itself, at their bounds to the microsecond and around them.
Were they to disagree, a renewal or a share code would be waited for that nobody may claim, or claimed twice."""
import time
from datetime import timedelta

import sqlalchemy as sa

from aiteni.models import WeChatAccessToken, utcnow
from aiteni.wechat.lease import CLOCK_STEP, lease_held, lease_lapsed, lease_until
from aiteni.wechat.token import FORCE_SPACING, RENEW_AHEAD, TOKEN_LIFETIME, due, forced_lately, fresh

TOKENS = WeChatAccessToken.__table__
MICROSECOND = timedelta(microseconds=1)
HOUR = timedelta(hours=1)


def around(*bounds):
    """Each bound, a microsecond either side of it, and an hour before the first and after the last."""
    return [bound + nudge for bound in bounds for nudge in (-MICROSECOND, 0 * MICROSECOND, MICROSECOND)] + [
        bounds[0] - HOUR, bounds[-1] + HOUR]


def stored(database_url, column, times):
    """A token row per time in `column`, and a row with no token and no time; {appid: the time as read back}."""
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        for n, value in enumerate([None, *times]):
            token = None if value is None else f"t{n}"
            connection.execute(TOKENS.insert().values(appid=f"wx{n}", token=token, **{column: value}))
        rows = connection.execute(sa.select(TOKENS.c.appid, TOKENS.c[column])).all()
    engine.dispose()
    return dict(rows)


def matched(database_url, condition):
    """The appids of the rows the database finds `condition` true of."""
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        found = set(connection.scalars(sa.select(TOKENS.c.appid).where(condition)))
    engine.dispose()
    return found


def test_a_lease_lapses_in_sql_exactly_where_python_no_longer_holds_it(database_url):
    now = utcnow()
    deadline = time.monotonic() - 1  # passed: the lease ends LEASE_MARGIN_SECONDS after `now`, to the microsecond
    latest = lease_until(now, deadline) + CLOCK_STEP
    rows = stored(database_url, "renewing_until", around(now, latest))
    held = {appid for appid, until in rows.items() if lease_held(until, now, deadline)}
    assert held == {appid for appid, until in rows.items() if until is not None and now <= until <= latest}
    assert matched(database_url, lease_lapsed(TOKENS.c.renewing_until, now, deadline)) == rows.keys() - held


def test_a_forced_renewal_spaces_the_next_in_sql_exactly_where_python_counts_it(database_url):
    now = utcnow()
    rows = stored(database_url, "forced_at", around(now - FORCE_SPACING, now + CLOCK_STEP))
    lately = {appid for appid, forced_at in rows.items() if forced_lately(now).holds(forced_at)}
    assert len(lately) == 4  # the two bounds and a microsecond inside each
    assert matched(database_url, forced_lately(now).misses(TOKENS.c.forced_at)) == rows.keys() - lately


def test_a_token_is_due_in_sql_exactly_where_python_finds_it_stale(database_url):
    now = utcnow()
    rows = stored(database_url, "expires_at", around(now + RENEW_AHEAD, now + TOKEN_LIFETIME + CLOCK_STEP))
    stale = {appid for appid, expires_at in rows.items() if expires_at is None or not fresh(expires_at, now)}
    # Exactly RENEW_AHEAD left included: it used to be neither fresh nor due, the one instant both rules let pass.
    assert any(expires_at == now + RENEW_AHEAD for expires_at in rows.values())
    assert matched(database_url, due(TOKENS.c, now)) == stale
