"""apps/core/bulk.py: COPY with constant columns, and statements with their parameters bound on the server."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from apps.core.bulk import execute_bound, rows_copy


@pytest.fixture
def scratch(db) -> str:  # type: ignore[no-untyped-def]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bulk_scratch (n integer NOT NULL, label text, at timestamptz, "
                       "ref uuid, flag boolean, amount numeric(12, 2), note text)")
    return "bulk_scratch"


def _rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT n, label, at, ref, flag, amount, note FROM {table} ORDER BY n")
        return cursor.fetchall()


def test_constants_reach_every_row_exactly_as_their_values(scratch):
    at = dt.datetime(2026, 3, 31, 23, 59, 59, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
    ref = uuid.uuid4()
    note = 'tab\there, new\nline, back\\slash, "quotes" and ção'
    rows_copy(scratch, ("n", "label"), [(1, "a\tb"), (2, None), (3, "\\N")], constants=(
        ("at", at), ("ref", ref), ("flag", False), ("amount", Decimal("1234.50")), ("note", note)))

    assert _rows(scratch) == [(n, label, at, ref, False, Decimal("1234.50"), note)
                              for n, label in ((1, "a\tb"), (2, None), (3, "\\N"))]


def test_without_constants_rows_go_in_as_given_and_a_null_constant_stays_null(scratch):
    rows_copy(scratch, ("n", "note"), [(1, "x")])
    rows_copy(scratch, ("n",), [(2,)], constants=(("note", None),))
    assert [(row[0], row[6]) for row in _rows(scratch)] == [(1, "x"), (2, None)]


def test_a_refused_row_is_djangos_integrity_error(scratch):
    with pytest.raises(IntegrityError):
        rows_copy(scratch, ("label",), [("no number",)])


def test_bound_arrays_and_scalars_come_back_typed_and_the_statement_is_logged(db):
    ids = [uuid.uuid4() for _ in range(3)]
    with CaptureQueriesContext(connection) as queries:
        rows = execute_bound("SELECT u, n + %s FROM unnest(%b::uuid[], %b::int[]) AS v(u, n) ORDER BY n",
                             [10, ids, [1, 2, 3]])
    assert rows == [(ids[0], 11), (ids[1], 12), (ids[2], 13)]
    assert queries.captured_queries[-1]["sql"].startswith("SELECT u, n + %s FROM unnest")


def test_a_statement_without_result_returns_no_rows_and_errors_are_djangos(scratch):
    assert execute_bound(f"INSERT INTO {scratch} (n) SELECT unnest(%b::int[])", [[1, 2]]) == []
    assert [row[0] for row in _rows(scratch)] == [1, 2]
    with pytest.raises(IntegrityError):
        execute_bound(f"INSERT INTO {scratch} (n) SELECT unnest(%b::int[])", [[None]])
