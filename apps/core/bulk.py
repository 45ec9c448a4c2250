"""Writing thousands of rows from plain tuples (the ledger's bulk awards, the campaign execution engine, the TLP
outbox)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from django.db import connection
from psycopg.adapt import PyFormat, Transformer


def rows_copy(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
              constants: Sequence[tuple[str, Any]] = ()) -> None:
    """``COPY table (columns) FROM STDIN`` of ``rows``: the cheapest way in for thousands of rows, streamed (the
    server inserts while the rows are still being formatted). ``constants`` (column, value) follow ``columns``
    in every row: each is converted to its text form once, not once per row (a timestamp's conversion costs
    more than a short string's whole trip). Omitted columns take their database default (an identity, say).
    Errors are Django's (``IntegrityError``…); the statement is recorded like Django's own when queries are
    being logged."""
    started = time.monotonic()
    names = ", ".join(f'"{column}"' for column in (*columns, *(column for column, _value in constants)))
    sql = f'COPY "{table}" ({names}) FROM STDIN'
    # Django's cursor: django-tenants sets the schema's search path on the way.
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        fixed = _texts(cursor.cursor.connection, [value for _column, value in constants])
        write = copy.write_row
        if fixed:
            for row in rows:
                write((*row, *fixed))
        else:
            for row in rows:
                write(row)
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})


def execute_bound(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Execute with the parameters bound on the server: Django's psycopg cursor interpolates them into the SQL
    text, which for arrays of thousands of values costs more (quoting here, parsing there) than the statement
    itself. Arrays take ``%b`` placeholders: psycopg dumps a list in binary ~10x faster than in text (no
    per-element quoting), so ``%b::<type>[]``; results come back in binary too. Errors are Django's
    (``IntegrityError``…); the statement is recorded like Django's own when queries are being logged. Returns
    the rows, if any."""
    started = time.monotonic()
    with connection.cursor() as django_cursor:  # django-tenants sets the schema's search path on the way
        raw = django_cursor.cursor.connection
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, params, binary=True)
        rows = cursor.fetchall() if cursor.description is not None else []
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return rows


def _texts(raw: Any, values: list[Any]) -> tuple[Any, ...]:
    """Each value as COPY's text format reads it (``None`` stays NULL), converted by the connection's own
    adapters: the row formatter then passes the string through as it is."""
    if not values:
        return ()
    transformer = Transformer(raw)
    texts = []
    for value in values:
        if value is None or isinstance(value, str):
            texts.append(value)
        else:
            texts.append(bytes(transformer.get_dumper(value, PyFormat.TEXT).dump(value)).decode())
    return tuple(texts)
