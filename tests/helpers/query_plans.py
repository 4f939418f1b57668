"""Helpers for tests that check how the database runs the app's own queries."""
from contextlib import contextmanager

import sqlalchemy as sa


@contextmanager
def statements_with_order_by(engine):
    """Collects (SQL, parameters) of every ORDER BY query sent while the block runs."""
    statements = []

    def capture(_conn, _cursor, statement, parameters, _context, _executemany):
        if "ORDER BY" in statement:
            statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)


def explain(engine, statement, parameters):
    """SQLite: the plan's detail lines joined by " | ". MariaDB/MySQL: EXPLAIN's rows as dicts."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            return " | ".join(row[-1] for row in rows)
        return [dict(row) for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters).mappings()]


def extras(rows):
    """MariaDB's Extra column of every EXPLAIN row, as one string."""
    return " | ".join(row["Extra"] or "" for row in rows)
