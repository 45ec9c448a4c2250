"""Turn a customer's schema into one normalised description, whatever it came as.

Sources: SQL DDL (PostgreSQL, MySQL, SQL Server, Oracle; parsed with sqlglot, never with regular
expressions), a JSON description, or a live database (PostgreSQL, MySQL/MariaDB, SQLite) introspected
read-only. The result::

    {"tables": [{"name": "orders", "schema": "", "columns": [{"name", "type", "kind", "nullable", "values"}],
                 "primary_key": ["id"],
                 "foreign_keys": [{"columns": ["customer_id"], "ref_table": "customers", "ref_columns": ["id"]}]}]}

``kind`` is one of integer, decimal, text, date, datetime, boolean, other; ``values`` lists the values a
column may hold when the source says so (ENUM, CHECK ... IN, or sampled status values of a live database).
"""

from __future__ import annotations

import json
import re
from typing import Any

import sqlglot
from django.utils.translation import gettext as _
from sqlglot import exp
from sqlglot.errors import ParseError

from apps.core.errors import ApplicationError
from apps.rules.source_db import SourceDatabase, connection_fetch, source_connect

DDL_DIALECTS = ("postgres", "mysql", "tsql", "oracle", "sqlite")
KINDS = ("integer", "decimal", "text", "date", "datetime", "boolean", "other")
MAX_TABLES = 500
MAX_COLUMNS = 500
# Letters (any script), digits, underscore, dollar and space: the names the compiler will ever quote.
_SAFE_NAME = re.compile(r"^[^\W\d][\w$ ]{0,127}$", re.UNICODE)
_STATUS_TOKENS = {"status", "state", "situacao", "estado", "estatus", "situacion", "stage"}
_MAX_SAMPLED_VALUES = 50


class SchemaIngestError(ApplicationError):
    default_code = "schema_invalid"


# ------------------------------------------------------------------------------------------ types
def _kind_of(data_type: exp.DataType) -> str:
    dtype = data_type.this
    types = exp.DataType.Type
    if dtype in (types.BOOLEAN,) or (dtype == types.BIT and not data_type.expressions):
        return "boolean"
    if dtype in exp.DataType.INTEGER_TYPES or dtype in (types.SERIAL, types.BIGSERIAL, types.SMALLSERIAL):
        return "integer"
    if dtype in (types.DECIMAL, types.DOUBLE, types.FLOAT, types.MONEY, types.SMALLMONEY, types.UDECIMAL,
                 types.BIGDECIMAL):
        # Oracle NUMBER(10) is an integer; NUMBER(12,2) a decimal.
        params = data_type.expressions
        if dtype == types.DECIMAL and len(params) == 1:
            return "integer"
        return "decimal"
    if dtype == types.DATE or dtype == types.DATE32:
        return "date"
    if dtype in exp.DataType.TEMPORAL_TYPES:
        return "datetime"
    if dtype in exp.DataType.TEXT_TYPES or dtype in (types.CHAR, types.NCHAR, types.ENUM, types.UUID):
        return "text"
    return "other"


def type_kind(type_text: str, *, dialect: str | None = None) -> str:
    """The coarse kind of a type written as text ("numeric(12,2)" -> decimal); "other" when unknown."""
    text = (type_text or "").strip()
    if not text:
        return "other"
    try:
        return _kind_of(exp.DataType.build(text, dialect=dialect))
    except (ParseError, ValueError, TypeError):
        pass
    lowered = text.lower()
    for needle, kind in (("int", "integer"), ("serial", "integer"), ("num", "decimal"), ("dec", "decimal"),
                         ("real", "decimal"), ("double", "decimal"), ("float", "decimal"), ("money", "decimal"),
                         ("timestamp", "datetime"), ("datetime", "datetime"), ("date", "date"),
                         ("char", "text"), ("text", "text"), ("string", "text"), ("bool", "boolean")):
        if needle in lowered:
            return kind
    return "other"


# ------------------------------------------------------------------------------------------ normalising
def _check_name(name: str, what: str) -> str:
    name = (name or "").strip()
    if not _SAFE_NAME.match(name):
        raise SchemaIngestError(
            _("%(what)s name %(name)r is not supported: use letters, digits, underscores and spaces only.")
            % {"what": what, "name": name[:80]},
            fields={"schema": [_("Unsupported name: %(name)s") % {"name": name[:80]}]},
        )
    return name


def schema_normalise(*, tables: list[dict[str, Any]]) -> dict[str, Any]:
    """Validate names, drop duplicate tables (the last one wins), keep keys that point at known columns."""
    if not tables:
        raise SchemaIngestError(_("No tables were found in the schema."), code="schema_empty",
                                fields={"schema": [_("No tables found.")]})
    if len(tables) > MAX_TABLES:
        raise SchemaIngestError(_("The schema has too many tables (at most %(max)s).") % {"max": MAX_TABLES})
    by_name: dict[str, dict[str, Any]] = {}
    for table in tables:
        name = _check_name(table["name"], _("Table"))
        columns: dict[str, dict[str, Any]] = {}
        for column in table.get("columns", []):
            column_name = _check_name(column["name"], _("Column"))
            columns[column_name.lower()] = {
                "name": column_name,
                "type": str(column.get("type") or ""),
                "kind": column.get("kind") if column.get("kind") in KINDS else type_kind(str(column.get("type") or "")),
                "nullable": bool(column.get("nullable", True)),
                "values": [str(value) for value in column.get("values") or []][:_MAX_SAMPLED_VALUES],
            }
        if not columns:
            continue
        if len(columns) > MAX_COLUMNS:
            raise SchemaIngestError(_("Table %(table)s has too many columns.") % {"table": name})
        primary_key = [columns[c.lower()]["name"] for c in table.get("primary_key", []) if c.lower() in columns]
        foreign_keys = []
        for fk in table.get("foreign_keys", []):
            cols = [columns[c.lower()]["name"] for c in fk.get("columns", []) if c.lower() in columns]
            if cols and fk.get("ref_table"):
                foreign_keys.append({"columns": cols, "ref_table": _check_name(fk["ref_table"], _("Table")),
                                     "ref_columns": [_check_name(c, _("Column")) for c in fk.get("ref_columns", [])]})
        by_name[name.lower()] = {"name": name, "schema": (table.get("schema") or "").strip(),
                                 "columns": list(columns.values()), "primary_key": primary_key,
                                 "foreign_keys": foreign_keys}
    if not by_name:
        raise SchemaIngestError(_("No tables with columns were found in the schema."), code="schema_empty",
                                fields={"schema": [_("No tables found.")]})
    # A foreign key without referenced columns points at the referenced table's primary key.
    for table in by_name.values():
        for fk in table["foreign_keys"]:
            target = by_name.get(fk["ref_table"].lower())
            if target is not None:
                fk["ref_table"] = target["name"]
                if not fk["ref_columns"]:
                    fk["ref_columns"] = list(target["primary_key"])
    return {"tables": sorted(by_name.values(), key=lambda t: t["name"].lower())}


# ------------------------------------------------------------------------------------------ DDL
def _identifiers(node: exp.Expression | None) -> list[str]:
    if node is None:
        return []
    names = []
    for item in node.expressions if hasattr(node, "expressions") else []:
        target = item.this if isinstance(item, exp.Ordered) else item
        names.append(target.name)
    return names


def _reference(ref: exp.Reference) -> tuple[str, list[str]]:
    schema = ref.this
    if isinstance(schema, exp.Schema):
        return schema.this.name, [identifier.name for identifier in schema.expressions]
    return schema.name, []


def _literal_values(node: exp.Expression) -> list[str]:
    return [literal.this for literal in node.find_all(exp.Literal) if literal.is_string]


def _apply_constraint(table: dict[str, Any], constraint: exp.Expression) -> None:
    inner = constraint.expressions if isinstance(constraint, exp.Constraint) else [constraint]
    for item in inner:
        if isinstance(item, exp.PrimaryKey):
            table["primary_key"] = _identifiers(item)
        elif isinstance(item, exp.PrimaryKeyColumnConstraint):
            clustered = constraint.find(exp.ClusteredColumnConstraint) if isinstance(constraint, exp.Constraint) \
                else None
            if clustered is not None:
                table["primary_key"] = [o.this.name for o in clustered.this]
        elif isinstance(item, exp.ForeignKey):
            ref_table, ref_columns = _reference(item.args["reference"])
            table["foreign_keys"].append({"columns": [i.name for i in item.expressions], "ref_table": ref_table,
                                          "ref_columns": ref_columns})
        elif isinstance(item, exp.CheckColumnConstraint):
            check = item.this
            if isinstance(check, exp.In) and isinstance(check.this, exp.Column):
                _set_values(table, check.this.name, _literal_values(check))


def _set_values(table: dict[str, Any], column_name: str, values: list[str]) -> None:
    for column in table["columns"]:
        if column["name"].lower() == column_name.lower() and values:
            column["values"] = values


def _table_from_create(create: exp.Create, dialect: str) -> dict[str, Any] | None:
    schema = create.this
    if not isinstance(schema, exp.Schema) or not isinstance(schema.this, exp.Table):
        return None  # CREATE TABLE ... AS SELECT: no column list to read
    table_node = schema.this
    table: dict[str, Any] = {"name": table_node.name, "schema": table_node.db, "columns": [], "primary_key": [],
                             "foreign_keys": []}
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            data_type = item.args.get("kind")
            column = {"name": item.name, "type": data_type.sql(dialect=dialect).lower() if data_type else "",
                      "kind": _kind_of(data_type) if data_type else "other", "nullable": True, "values": []}
            if data_type is not None and data_type.this == exp.DataType.Type.ENUM:
                column["values"] = _literal_values(data_type)
            table["columns"].append(column)
            for constraint in item.constraints:
                kind = constraint.args.get("kind")
                if isinstance(kind, exp.PrimaryKeyColumnConstraint):
                    table["primary_key"] = [item.name]
                    column["nullable"] = False
                elif isinstance(kind, exp.NotNullColumnConstraint) and not kind.args.get("allow_null"):
                    column["nullable"] = False
                elif isinstance(kind, exp.Reference):
                    ref_table, ref_columns = _reference(kind)
                    table["foreign_keys"].append({"columns": [item.name], "ref_table": ref_table,
                                                  "ref_columns": ref_columns})
                elif isinstance(kind, exp.CheckColumnConstraint) and isinstance(kind.this, exp.In):
                    column["values"] = _literal_values(kind.this)
        else:
            _apply_constraint(table, item)
    return table


def schema_from_ddl(*, ddl: str, dialect: str) -> dict[str, Any]:
    """Parse CREATE TABLE (and ALTER TABLE ... ADD CONSTRAINT) statements; other statements are ignored."""
    if dialect not in DDL_DIALECTS:
        raise SchemaIngestError(_("Unsupported SQL dialect: %(dialect)s.") % {"dialect": dialect},
                                fields={"dialect": [_("Unsupported dialect.")]})
    text = ddl or ""
    if dialect == "tsql":
        # GO is a client batch separator, not T-SQL; on its own line it only ends a batch.
        text = re.sub(r"(?im)^\s*GO\s*;?\s*$", ";", text)
    try:
        statements = sqlglot.parse(text, read=dialect)
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        raise SchemaIngestError(
            _("The DDL could not be parsed (line %(line)s, column %(col)s): %(error)s")
            % {"line": first.get("line", "?"), "col": first.get("col", "?"), "error": first.get("description", exc)},
            code="schema_parse_error", fields={"ddl": [_("Parse error.")]},
        ) from exc
    tables: dict[str, dict[str, Any]] = {}
    for statement in statements:
        if isinstance(statement, exp.Create) and str(statement.args.get("kind", "")).upper() == "TABLE":
            table = _table_from_create(statement, dialect)
            if table is not None:
                tables[table["name"].lower()] = table
        elif isinstance(statement, exp.Alter) and isinstance(statement.this, exp.Table):
            table = tables.get(statement.this.name.lower())
            if table is None:
                continue
            for action in statement.args.get("actions") or []:
                for constraint in action.expressions if isinstance(action, exp.AddConstraint) else []:
                    _apply_constraint(table, constraint)
    return schema_normalise(tables=list(tables.values()))


# ------------------------------------------------------------------------------------------ JSON
def schema_from_json(*, description: dict[str, Any] | list[Any] | str) -> dict[str, Any]:
    """Read ``{"tables": [{"name", "columns": [{"name", "type"}] | {"col": "type"}, "primary_key",
    "foreign_keys": [{"columns", "ref_table", "ref_columns"}]}]}``; a column may also say
    ``"references": "table.column"``."""
    if isinstance(description, str):
        try:
            description = json.loads(description)
        except ValueError as exc:
            raise SchemaIngestError(_("The JSON schema description is not valid JSON."),
                                    fields={"schema": [_("Invalid JSON.")]}) from exc
    raw_tables = description.get("tables") if isinstance(description, dict) else description
    if not isinstance(raw_tables, list):
        raise SchemaIngestError(_('The JSON schema description needs a "tables" list.'),
                                fields={"schema": [_('Missing "tables".')]})
    tables = []
    for raw in raw_tables:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise SchemaIngestError(_("Every table needs a name."), fields={"schema": [_("Table without a name.")]})
        raw_columns = raw.get("columns") or []
        if isinstance(raw_columns, dict):
            raw_columns = [{"name": name, "type": kind} for name, kind in raw_columns.items()]
        columns, foreign_keys = [], list(raw.get("foreign_keys") or [])
        primary_key = list(raw.get("primary_key") or [])
        if isinstance(primary_key, str):
            primary_key = [primary_key]
        for column in raw_columns:
            if isinstance(column, str):
                column = {"name": column}
            if not isinstance(column, dict) or not isinstance(column.get("name"), str):
                raise SchemaIngestError(_("Every column needs a name."),
                                        fields={"schema": [_("Column without a name.")]})
            columns.append({"name": column["name"], "type": str(column.get("type") or ""),
                            "nullable": column.get("nullable", True), "values": column.get("values") or []})
            if column.get("primary_key"):
                primary_key.append(column["name"])
            reference = column.get("references")
            if isinstance(reference, str) and "." in reference:
                ref_table, ref_column = reference.rsplit(".", 1)
                foreign_keys.append({"columns": [column["name"]], "ref_table": ref_table,
                                     "ref_columns": [ref_column]})
        for fk in foreign_keys:
            if isinstance(fk.get("columns"), str):
                fk["columns"] = [fk["columns"]]
            if isinstance(fk.get("ref_columns"), str):
                fk["ref_columns"] = [fk["ref_columns"]]
        tables.append({"name": raw["name"], "schema": raw.get("schema") or "", "columns": columns,
                       "primary_key": primary_key, "foreign_keys": foreign_keys})
    return schema_normalise(tables=tables)


# ------------------------------------------------------------------------------------------ live databases
_PG_COLUMNS = """
SELECT c.table_name, c.column_name, c.data_type, c.is_nullable
FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = %s AND t.table_type IN ('BASE TABLE', 'VIEW')
ORDER BY c.table_name, c.ordinal_position
"""
_PG_KEYS = """
SELECT tc.constraint_type, tc.constraint_name, kcu.table_name, kcu.column_name, ref.table_name, ref.column_name
FROM information_schema.table_constraints tc
JOIN information_schema.key_column_usage kcu
  ON kcu.constraint_schema = tc.constraint_schema AND kcu.constraint_name = tc.constraint_name
 AND kcu.table_name = tc.table_name
LEFT JOIN information_schema.referential_constraints rc
  ON rc.constraint_schema = tc.constraint_schema AND rc.constraint_name = tc.constraint_name
LEFT JOIN information_schema.key_column_usage ref
  ON ref.constraint_schema = rc.unique_constraint_schema AND ref.constraint_name = rc.unique_constraint_name
 AND ref.ordinal_position = kcu.position_in_unique_constraint
WHERE tc.table_schema = %s AND tc.constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')
ORDER BY tc.constraint_name, kcu.ordinal_position
"""
_MYSQL_COLUMNS = """
SELECT table_name, column_name, column_type, is_nullable
FROM information_schema.columns WHERE table_schema = DATABASE()
ORDER BY table_name, ordinal_position
"""
_MYSQL_KEYS = """
SELECT CASE WHEN constraint_name = 'PRIMARY' THEN 'PRIMARY KEY' ELSE 'FOREIGN KEY' END, constraint_name,
       table_name, column_name, referenced_table_name, referenced_column_name
FROM information_schema.key_column_usage
WHERE table_schema = DATABASE() AND (constraint_name = 'PRIMARY' OR referenced_table_name IS NOT NULL)
ORDER BY constraint_name, ordinal_position
"""


def _assemble(column_rows: list[tuple], key_rows: list[tuple], dialect: str) -> list[dict[str, Any]]:
    tables: dict[str, dict[str, Any]] = {}
    for table_name, column_name, data_type, is_nullable in column_rows:
        table = tables.setdefault(table_name, {"name": table_name, "columns": [], "primary_key": [],
                                               "foreign_keys": []})
        kind = type_kind(str(data_type), dialect=dialect)
        values: list[str] = []
        if dialect == "mysql" and str(data_type).lower().startswith("enum("):
            with_values = sqlglot.parse_one(f"CREATE TABLE t (c {data_type})", read="mysql")
            values = _literal_values(with_values)
        table["columns"].append({"name": column_name, "type": str(data_type), "kind": kind,
                                 "nullable": str(is_nullable).upper() == "YES", "values": values})
    foreign: dict[tuple[str, str], dict[str, Any]] = {}
    for constraint_type, name, table_name, column_name, ref_table, ref_column in key_rows:
        table = tables.get(table_name)
        if table is None:
            continue
        if constraint_type == "PRIMARY KEY":
            table["primary_key"].append(column_name)
        elif ref_table:
            fk = foreign.setdefault((table_name, name), {"columns": [], "ref_table": ref_table, "ref_columns": []})
            fk["columns"].append(column_name)
            fk["ref_columns"].append(ref_column)
    for (table_name, _name), fk in foreign.items():
        tables[table_name]["foreign_keys"].append(fk)
    return list(tables.values())


def _sqlite_tables(conn: Any) -> list[dict[str, Any]]:
    tables = []
    names = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite%' ORDER BY name")]
    for name in names:
        quoted = '"' + name.replace('"', '""') + '"'
        info = conn.execute(f"PRAGMA table_info({quoted})").fetchall()
        columns = [{"name": row[1], "type": row[2] or "", "nullable": not row[3]} for row in info]
        primary_key = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]]
        fks: dict[int, dict[str, Any]] = {}
        for row in conn.execute(f"PRAGMA foreign_key_list({quoted})").fetchall():
            fk = fks.setdefault(row[0], {"columns": [], "ref_table": row[2], "ref_columns": []})
            fk["columns"].append(row[3])
            if row[4]:
                fk["ref_columns"].append(row[4])
        tables.append({"name": name, "columns": columns, "primary_key": primary_key,
                       "foreign_keys": list(fks.values())})
    return tables


def _sample_status_values(conn: Any, source: SourceDatabase, tables: list[dict[str, Any]]) -> None:
    """Read the distinct values of status-like text columns, so the analysis maps real values."""
    from apps.rules.schema_analysis import name_tokens  # the analysis owns tokenising

    dialect = source.engine
    for table in tables:
        for column in table["columns"]:
            if column.get("values") or type_kind(column["type"], dialect=dialect) != "text":
                continue
            if not _STATUS_TOKENS & set(name_tokens(column["name"])):
                continue
            table_ref = exp.Table(this=exp.to_identifier(table["name"], quoted=True),
                                  db=exp.to_identifier(table["schema"], quoted=True) if table.get("schema") else None)
            query = (exp.select(exp.column(column["name"], quoted=True)).distinct()
                     .from_(table_ref).limit(_MAX_SAMPLED_VALUES))
            _columns, rows = connection_fetch(conn=conn, source=source, sql=query.sql(dialect=dialect))
            column["values"] = sorted(str(row[0]) for row in rows if row[0] is not None)


def schema_introspect(*, source: SourceDatabase) -> dict[str, Any]:
    """Read tables, columns, primary and foreign keys of a live database (read-only session)."""
    with source_connect(source=source, timeout_ms=15_000) as conn:
        if source.engine == "postgres":
            schema = source.schema or "public"
            _c, column_rows = connection_fetch(conn=conn, source=source, sql=_PG_COLUMNS, params=[schema])
            _k, key_rows = connection_fetch(conn=conn, source=source, sql=_PG_KEYS, params=[schema])
            tables = _assemble(column_rows, key_rows, "postgres")
            if schema != "public":
                for table in tables:
                    table["schema"] = schema
        elif source.engine == "mysql":
            _c, column_rows = connection_fetch(conn=conn, source=source, sql=_MYSQL_COLUMNS)
            _k, key_rows = connection_fetch(conn=conn, source=source, sql=_MYSQL_KEYS)
            tables = _assemble(column_rows, key_rows, "mysql")
        else:
            tables = _sqlite_tables(conn)
        _sample_status_values(conn, source, tables)
    return schema_normalise(tables=tables)
