"""Prove that a SQL text is one harmless SELECT before it ever reaches a customer's database.

Static proof (sqlglot, no database): the text parses as exactly one statement, which is a SELECT (or a set
operation of SELECTs); nowhere in its tree is there DML, DDL, COPY, ``SELECT ... INTO``, a locking clause,
a transaction or session command; every function is on an allow-list (aggregates, COALESCE, CASE, CAST,
arithmetic and date functions: ``pg_sleep``, ``dblink``, ``lo_import``, ``set_config``... are not); no
system catalogue is read; every table is one of the mapped tables and every column exists in the schema.

Dynamic check (only after the static proof): ``EXPLAIN`` and a LIMITed dry run on the source database, in a
read-only transaction with a statement timeout (see source_db.py).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from django.utils.translation import gettext as _
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError
from sqlglot.optimizer.qualify import qualify

from apps.rules.source_db import SourceDatabase, SourceDatabaseError, connection_fetch, source_connect

DRY_RUN_LIMIT = 5
DEFAULT_TIMEOUT_MS = 5000
_QUERY_ROOTS = (exp.Select, exp.Union, exp.Intersect, exp.Except)
_FORBIDDEN_NODE_NAMES = (
    "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "AlterColumn", "TruncateTable", "Command",
    "Copy", "Into", "Lock", "Grant", "Revoke", "Set", "SetItem", "Use", "Transaction", "Commit", "Rollback",
    "LoadData", "Pragma", "Describe", "Kill", "Analyze", "Cache", "Uncache", "Refresh", "Export", "Attach", "Detach",
    "Summarize", "Declare", "Execute", "Call",
)
_FORBIDDEN_NODES = tuple(t for t in (getattr(exp, name, None) for name in _FORBIDDEN_NODE_NAMES) if isinstance(t, type))
_ALLOWED_FUNCTION_NAMES = (
    # aggregates and windows
    "Sum", "Count", "Avg", "Min", "Max", "RowNumber", "Rank", "DenseRank", "PercentRank", "CumeDist", "Ntile",
    "Lag", "Lead", "FirstValue", "LastValue", "Stddev", "StddevPop", "StddevSamp", "Variance", "VariancePop",
    # conditionals and casts
    "Coalesce", "Case", "If", "Nullif", "Cast", "TryCast", "Greatest", "Least", "Null",
    # arithmetic and text
    "Round", "Floor", "Ceil", "Abs", "Sign", "Mod", "Lower", "Upper", "Trim", "Length", "Substring", "Concat",
    # dates
    "CurrentDate", "CurrentTimestamp", "Extract", "DateTrunc", "TimestampTrunc", "DateAdd", "DateSub", "DateDiff",
    "Date", "Year", "Month", "Day", "Quarter", "Week", "TsOrDsToDate", "TsOrDsAdd", "StrToDate", "DateStrToDate",
    "TimeToStr", "TimestampAdd", "TimestampSub", "TimestampDiff", "DatetimeAdd", "DatetimeSub", "DatetimeDiff",
    "LastDay", "ToDate",
)
_ALLOWED_FUNCTIONS = tuple(t for t in (getattr(exp, name, None) for name in _ALLOWED_FUNCTION_NAMES)
                           if isinstance(t, type))
# sqlglot models operators (AND, =, +, IN, BETWEEN...) as functions too: they are not calls.
_OPERATORS = (exp.Connector, exp.Binary, exp.Unary, exp.Predicate)
# Functions sqlglot does not model (exp.Anonymous), by lower-case name.
_ALLOWED_ANONYMOUS = frozenset({"date", "strftime", "julianday", "date_part", "datepart", "datediff", "dateadd",
                                "date_format", "to_char", "eomonth", "ifnull", "isnull", "nvl"})
_SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "pg_toast", "mysql", "sys", "performance_schema",
                             "sqlite_master", "sqlite_schema", "sqlite_temp_master", "master", "msdb", "tempdb"})


@dataclass(frozen=True)
class GuardIssue:
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class GuardReport:
    errors: list[GuardIssue] = field(default_factory=list)
    warnings: list[GuardIssue] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    explain: list[str] = field(default_factory=list)
    sample_columns: list[str] = field(default_factory=list)
    sample_rows: list[list[Any]] = field(default_factory=list)
    elapsed_ms: int | None = None
    dynamic_checked: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, code: str, message: str) -> None:
        self.errors.append(GuardIssue(code, message))

    def warn(self, code: str, message: str) -> None:
        self.warnings.append(GuardIssue(code, message))


# ------------------------------------------------------------------------------------------ static
def _parseable(sql: str, dialect: str) -> str:
    """MySQL's ``%s`` placeholders read as the modulo operator to sqlglot: check them as ``?``."""
    if dialect == "mysql":
        return re.sub(r"%s", "?", sql)
    return sql


def _function_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this)
    return node.sql_name() if hasattr(node, "sql_name") else type(node).__name__


def _schema_dict(definition: dict[str, Any], mapped: set[str] | None) -> dict[str, dict[str, str]]:
    schema: dict[str, dict[str, str]] = {}
    for table in definition.get("tables", []):
        if mapped is not None and table["name"].lower() not in mapped:
            continue
        schema[table["name"]] = {column["name"]: "TEXT" for column in table["columns"]}
    return schema


def sql_static_check(*, sql: str, dialect: str, definition: dict[str, Any] | None = None,
                     mapped_tables: set[str] | None = None) -> GuardReport:
    """The static read-only proof. ``mapped_tables``: the only tables the SQL may read (None: any table of
    ``definition``); without ``definition`` columns are not checked (a warning says so)."""
    report = GuardReport()
    text = (sql or "").strip()
    if not text:
        report.error("empty", _("The SQL is empty."))
        return report
    try:
        statements = [s for s in sqlglot.parse(_parseable(text, dialect), read=dialect) if s is not None]
    except (ParseError, SqlglotError) as exc:
        report.error("parse_error", _("The SQL could not be parsed: %(error)s") % {"error": str(exc)[:300]})
        return report
    if len(statements) != 1:
        report.error("multiple_statements",
                     _("Exactly one statement is allowed; found %(count)s.") % {"count": len(statements)})
        return report
    tree = statements[0]
    if not isinstance(tree, _QUERY_ROOTS):
        report.error("not_select", _("Only a SELECT query is allowed, not %(kind)s.")
                     % {"kind": tree.key.upper()})
        return report
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            kind = "SELECT ... INTO" if isinstance(node, exp.Into) else (
                "FOR UPDATE/SHARE" if isinstance(node, exp.Lock) else node.key.upper())
            report.error("forbidden_statement", _("%(kind)s is not allowed in a read-only query.") % {"kind": kind})
        elif isinstance(node, exp.Func) and not isinstance(node, _ALLOWED_FUNCTIONS + _OPERATORS):
            name = _function_name(node)
            if not (isinstance(node, exp.Anonymous) and name.lower() in _ALLOWED_ANONYMOUS):
                report.error("forbidden_function", _("Function %(name)s is not allowed.") % {"name": name})
        elif isinstance(node, exp.Literal) and node.is_string:
            report.warn("literal_value", _("The literal %(value)s should be a bound parameter.")
                        % {"value": repr(node.this)[:60]})
    if report.errors:
        return report
    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    tables = []
    for table in tree.find_all(exp.Table):
        name, db, catalog = table.name.lower(), table.db.lower(), table.catalog.lower()
        if not name:
            report.error("forbidden_source", _("Only tables can be read."))
            continue
        if not db and name in cte_names:
            continue
        if (name.startswith(("pg_", "sqlite_")) or name in _SYSTEM_SCHEMAS or db in _SYSTEM_SCHEMAS
                or catalog in _SYSTEM_SCHEMAS or db.startswith("pg_")):
            report.error("system_catalog", _("System catalogue %(table)s cannot be read.") % {"table": table.sql()})
            continue
        if mapped_tables is not None and name not in mapped_tables:
            report.error("unmapped_table",
                         _("Table %(table)s is not one of the mapped tables.") % {"table": table.name})
            continue
        if definition is not None and name not in {t["name"].lower() for t in definition.get("tables", [])}:
            report.error("unknown_table", _("Table %(table)s is not in the schema.") % {"table": table.name})
            continue
        tables.append(table.name)
    report.tables = sorted(set(tables))
    if report.errors:
        return report
    if definition is None:
        report.warn("columns_not_checked", _("No schema was given, so columns were not checked."))
        return report
    try:
        qualify(tree.copy(), schema=_schema_dict(definition, mapped_tables), dialect=dialect,
                validate_qualify_columns=True, quote_identifiers=False, identify=False)
    except (OptimizeError, SqlglotError) as exc:
        report.error("unknown_column",
                     _("A column does not exist in the schema: %(error)s") % {"error": str(exc)[:300]})
    return report


# ------------------------------------------------------------------------------------------ dynamic
def _explain_sql(sql: str, engine: str) -> str:
    return f"EXPLAIN QUERY PLAN {sql}" if engine == "sqlite" else f"EXPLAIN {sql}"


def sql_dynamic_check(*, sql: str, params: list[Any], source: SourceDatabase, report: GuardReport | None = None,
                      limit: int = DRY_RUN_LIMIT, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> GuardReport:
    """EXPLAIN and a LIMITed dry run in a read-only, time-limited transaction. Call only on SQL that passed
    ``sql_static_check``."""
    report = report or GuardReport()
    body = sql.strip().rstrip(";").strip()
    dry_run = f"SELECT * FROM ({body}) dry_run LIMIT {int(limit)}"  # noqa: S608 (statically proven SELECT)
    try:
        with source_connect(source=source, timeout_ms=timeout_ms) as conn:
            _columns, plan = connection_fetch(conn=conn, source=source, sql=_explain_sql(body, source.engine),
                                              params=params)
            report.explain = [" ".join(str(part) for part in row if part is not None) for row in plan][:60]
            started = time.perf_counter()
            columns, rows = connection_fetch(conn=conn, source=source, sql=dry_run, params=params, max_rows=limit)
            report.elapsed_ms = int((time.perf_counter() - started) * 1000)
            report.sample_columns = columns
            report.sample_rows = [list(row) for row in rows]
            report.dynamic_checked = True
    except SourceDatabaseError as exc:
        timed_out = any(word in exc.message.lower() for word in ("timeout", "canceling statement", "interrupted",
                                                                  "max_statement_time", "execution time"))
        report.error("timeout" if timed_out else exc.code, exc.message)
    if report.elapsed_ms is not None and report.elapsed_ms > timeout_ms // 2:
        report.warn("slow_query",
                    _("The dry run took %(ms)s ms: the full run may be slow.") % {"ms": report.elapsed_ms})
    return report


def sql_validate(*, sql: str, params: list[Any] | None, dialect: str, definition: dict[str, Any] | None,
                 mapped_tables: set[str] | None, source: SourceDatabase | None = None,
                 timeout_ms: int = DEFAULT_TIMEOUT_MS) -> GuardReport:
    """Static proof, then (when a source database is given and the proof holds) the dynamic check."""
    report = sql_static_check(sql=sql, dialect=dialect, definition=definition, mapped_tables=mapped_tables)
    if report.ok and source is not None:
        if source.engine != dialect:
            report.error("dialect_mismatch", _("The SQL is in %(dialect)s but the source database is %(engine)s.")
                         % {"dialect": dialect, "engine": source.engine})
        else:
            sql_dynamic_check(sql=sql, params=list(params or []), source=source, report=report,
                              timeout_ms=timeout_ms)
    elif source is None:
        report.warn("not_executed", _("No source database is connected, so the query was not tried."))
    return report
