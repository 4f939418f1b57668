"""Keyset pages, newest first: `id < before` rather than OFFSET, so page 1000 costs what page 1 does."""
from ..extensions import db

PAGE = 50


def newest_first(query, column, before=None, size=PAGE):
    """Up to `size` rows of `query` (ORM entities or rows with `column`) by `column` descending, below `before`;
    and the value to pass as `before` for the next page, or None at the end."""
    query = query.order_by(column.desc()).limit(size + 1)
    if before is not None:
        query = query.where(column < before)
    rows = db.session.execute(query).all()
    rows = [row[0] if len(row) == 1 else row for row in rows]
    more = len(rows) > size
    rows = rows[:size]
    return rows, getattr(rows[-1], column.key) if more else None
