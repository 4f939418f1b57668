"""Keyset pages, newest first: `id < before` rather than OFFSET, so page 1000 costs what page 1 does."""
import sqlalchemy as sa

from ..extensions import db

PAGE = 50


def newest_first(query, column, before=None, size=PAGE):
    """Up to `size` rows of `query` by `column` descending, below `before`; and the value to pass as `before`
    for the next page, or None at the end. A query of one entity yields entities; of more, rows whose first
    item is the entity `column` belongs to."""
    query = query.order_by(column.desc()).limit(size + 1)
    if before is not None:
        query = query.where(column < before)
    rows = [row[0] if len(row) == 1 else row for row in db.session.execute(query).all()]
    more = len(rows) > size
    rows = rows[:size]
    if not more:
        return rows, None
    last = rows[-1][0] if isinstance(rows[-1], sa.Row) else rows[-1]
    return rows, getattr(last, column.key)
