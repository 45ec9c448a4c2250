"""Compile a rule document + schema mapping into read-only SQL for the source database.

The query is built as a sqlglot AST (never by concatenating strings), generated in the source's dialect
(PostgreSQL, MySQL, SQL Server, SQLite), and every value — dates, amounts, statuses, names, thresholds,
points — is a bound parameter: the SQL text holds only placeholders in the driver's paramstyle (``%s`` for
psycopg/PyMySQL, ``?`` for sqlite3/pyodbc) and ``params`` lists the values in order.

Queries (see ``CompiledCampaign``):

- ``participants``: one row per participant (salesperson) — participant_id, region, eligible (1/0),
  ineligible_reason, and per goal ``<goal>_attained``, ``<goal>_percent``, ``<goal>_points``, then
  ``points_total``. An individual goal counts the participant's own eligible sales; a region (company) goal
  counts every eligible sale of the participant's region (of the company) and pays each eligible
  participant there when it is reached.
- ``regions`` (when a goal has scope region): one row per region with each region goal's attained/percent.
- ``company`` (when a goal has scope company): one row.
- ``preview``: sample eligible order lines.

Eligible sales: within the period (both days included), status not among the excluded statuses (raw values
from the mapping), the goal's filters, minimum order value, new customers only.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from sqlglot import exp

from apps.core.errors import UnprocessableError
from apps.rules.document import rule_document_validate
from apps.rules.schema_analysis import join_path
from apps.rules.source_db import PARAMSTYLES

DIALECTS = ("postgres", "mysql", "tsql", "sqlite")
PREVIEW_LIMIT = 20
REASON_TERMINATED = "terminated_before_end"
REASON_REGION = "region_not_included"


class CompileError(UnprocessableError):
    default_code = "rule_not_compilable"


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    params: list[Any]
    dialect: str
    paramstyle: str
    columns: list[str]
    tables: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "params": [_jsonable(value) for value in self.params]}


@dataclass(frozen=True)
class CompiledCampaign:
    participants: CompiledQuery
    preview: CompiledQuery
    regions: CompiledQuery | None = None
    company: CompiledQuery | None = None
    warnings: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"participants": self.participants.as_dict(), "preview": self.preview.as_dict(),
                "regions": self.regions.as_dict() if self.regions else None,
                "company": self.company.as_dict() if self.company else None, "warnings": list(self.warnings)}

    @property
    def queries(self) -> list[CompiledQuery]:
        return [q for q in (self.participants, self.regions, self.company, self.preview) if q is not None]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# ------------------------------------------------------------------------------------------ parameters
class _Params:
    """Values become unique sentinels in the AST; after generation each sentinel, in textual order, is
    replaced by the driver's placeholder and its value appended to ``params``."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.nonce = secrets.token_hex(6)
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> exp.Expression:
        name = f"__p{self.nonce}_{len(self.values)}__"
        if self.dialect == "sqlite":
            if isinstance(value, Decimal):
                value = float(value)
            elif isinstance(value, dt.date):
                value = value.isoformat()
        self.values[name] = value
        return exp.Var(this=name)

    def finish(self, sql: str) -> tuple[str, list[Any]]:
        style = PARAMSTYLES[self.dialect]
        if style == "format":
            sql = sql.replace("%", "%%")  # a literal % would otherwise read as a placeholder
        params: list[Any] = []

        def replace(match: re.Match[str]) -> str:
            params.append(self.values[match.group(0)])
            return "%s" if style == "format" else "?"

        sql = re.sub(rf"__p{self.nonce}_\d+__", replace, sql)
        return sql, params


# ------------------------------------------------------------------------------------------ FROM builder
def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _col(alias: str, column: str) -> exp.Column:
    return exp.Column(this=_ident(column), table=exp.to_identifier(alias))


class _From:
    """A FROM clause grown from a base table along the mapping's join paths; aliases ``<prefix><n>``."""

    def __init__(self, ctx: _Context, base: str, prefix: str, avoid: set[str] | None = None) -> None:
        self.ctx = ctx
        self.prefix = prefix
        self.aliases: dict[str, str] = {base.lower(): f"{prefix}0"}
        self.base = base
        self.joins: list[exp.Join] = []
        self.avoid = {t.lower() for t in (avoid or set())}

    def alias(self, table: str) -> str:
        """The alias of ``table``, joining it (and the tables on the way) if needed."""
        key = table.lower()
        if key in self.aliases:
            return self.aliases[key]
        joins = [j for j in self.ctx.joins if not ({j["from"].rsplit(".", 1)[0].lower(),
                                                    j["to"].rsplit(".", 1)[0].lower()} & self.avoid)]
        path = join_path(joins, self.base, table)
        if path is None:
            raise CompileError(
                _("No join path from %(base)s to %(table)s: tell us how they are linked (schema feedback).")
                % {"base": self.base, "table": table}, code="join_path_missing")
        for step in path:
            target = step["to_table"].lower()
            if target in self.aliases:
                continue
            alias = f"{self.prefix}{len(self.aliases)}"
            self.aliases[target] = alias
            on = exp.EQ(this=_col(self.aliases[step["from_table"].lower()], step["from_column"]),
                        expression=_col(alias, step["to_column"]))
            self.joins.append(exp.Join(this=self.ctx.table(step["to_table"], alias), kind="LEFT", on=on))
        return self.aliases[key]

    def reaches(self, table: str) -> bool:
        if table.lower() in self.aliases:
            return True
        joins = [j for j in self.ctx.joins if not ({j["from"].rsplit(".", 1)[0].lower(),
                                                    j["to"].rsplit(".", 1)[0].lower()} & self.avoid)]
        return join_path(joins, self.base, table) is not None

    def column(self, concept: str) -> exp.Expression:
        entry = self.ctx.concept(concept)
        alias = self.alias(entry["table"])
        if entry.get("expression") == "quantity * unit_price":
            quantity, price = self.ctx.concept("quantity"), self.ctx.concept("unit_price")
            return exp.Mul(this=_col(self.alias(quantity["table"]), quantity["column"]),
                           expression=_col(self.alias(price["table"]), price["column"]))
        return _col(alias, entry["column"])

    def entity_key(self, concept: str) -> exp.Expression:
        """The entity's key as seen from the fact side: a foreign-key column when the entity's table need
        not be joined (``orders.salesperson_id`` rather than ``salespeople.id``)."""
        entry = self.ctx.concept(concept)
        table, key = entry["table"], entry["column"]
        if table.lower() in self.aliases:
            return _col(self.aliases[table.lower()], key)
        path = join_path(self.ctx.joins, self.base, table)
        if path:
            last = path[-1]
            if last["to_column"].lower() == key.lower():
                before = path[:-1]
                holder = before[-1]["to_table"] if before else self.base
                return _col(self.alias(holder), last["from_column"])
        return _col(self.alias(table), key)

    def apply(self, select: exp.Select) -> exp.Select:
        select = select.from_(self.ctx.table(self.base, f"{self.prefix}0"))
        for join in self.joins:
            select = select.join(join)
        return select


class _Context:
    def __init__(self, mapping: dict[str, Any], definition: dict[str, Any] | None, params: _Params) -> None:
        self.mapping = mapping
        self.concepts = mapping.get("concepts", {})
        self.joins = list(mapping.get("joins", []))
        self.params = params
        self.schemas = {t["name"].lower(): t.get("schema") or "" for t in (definition or {}).get("tables", [])}
        self.tables_used: set[str] = set()

    def has(self, concept: str) -> bool:
        entry = self.concepts.get(concept) or {}
        return bool(entry.get("table")) and bool(entry.get("column") or entry.get("expression"))

    def concept(self, concept: str) -> dict[str, Any]:
        if not self.has(concept):
            raise CompileError(
                _("The rules need the %(concept)s, which is not mapped in the schema. Map it through the "
                  "schema feedback.") % {"concept": concept.replace("_", " ")},
                code="concept_unmapped", fields={concept: [_("Not mapped.")]})
        return self.concepts[concept]

    def table(self, name: str, alias: str) -> exp.Table:
        self.tables_used.add(name)
        schema = self.schemas.get(name.lower())
        return exp.Table(this=_ident(name), db=_ident(schema) if schema else None,
                         alias=exp.TableAlias(this=exp.to_identifier(alias)))


# ------------------------------------------------------------------------------------------ expressions
def _lower_in(expression: exp.Expression, values: list[str], p: _Params) -> exp.Expression:
    return exp.In(this=exp.Lower(this=expression), expressions=[p(v.strip().lower()) for v in values])


def _and(conditions: list[exp.Expression]) -> exp.Expression | None:
    if not conditions:
        return None
    result = conditions[0]
    for condition in conditions[1:]:
        result = exp.And(this=result, expression=condition)
    return result


def _paren_and(conditions: list[exp.Expression]) -> exp.Expression | None:
    combined = _and([exp.Paren(this=c) if isinstance(c, exp.Or) else c for c in conditions])
    return combined


def _case(whens: list[tuple[exp.Expression, exp.Expression]], default: exp.Expression | None) -> exp.Case:
    case = exp.Case()
    for condition, value in whens:
        case = case.when(condition, value)
    return case.else_(default) if default is not None else case


def _filters_key(goal: dict[str, Any]) -> tuple:
    filters = goal.get("filters") or {}
    return tuple(tuple(sorted(v.lower() for v in filters.get(k) or [])) for k in
                 ("product_lines", "categories", "skus", "regions"))


def _goal_filter(frm: _From, goal: dict[str, Any], p: _Params) -> list[exp.Expression]:
    filters = goal.get("filters") or {}
    conditions = []
    for key, concept in (("product_lines", "product_line"), ("categories", "category"), ("regions", "region")):
        values = filters.get(key) or []
        if values:
            conditions.append(_lower_in(frm.column(concept), values, p))
    if filters.get("skus"):
        conditions.append(exp.In(this=frm.column("sku"), expressions=[p(v) for v in filters["skus"]]))
    return conditions


def _metric(frm: _From, goal: dict[str, Any], condition: exp.Expression | None) -> exp.Expression:
    metric = goal["metric"]
    if metric == "order_count":
        value: exp.Expression = frm.entity_key("order")
        if condition is not None:
            value = _case([(condition, value)], None)
        return exp.Count(this=exp.Distinct(expressions=[value]))
    value = frm.column("line_amount" if metric == "line_amount" else "quantity")
    if condition is not None:
        value = _case([(condition, value)], None)
    return exp.Sum(this=value)


def _day_after(day: str) -> dt.date:
    return dt.date.fromisoformat(day) + dt.timedelta(days=1)


# ------------------------------------------------------------------------------------------ compile
def _fact_base(ctx: _Context) -> str:
    if ctx.has("order_line") or (ctx.concepts.get("order_line") or {}).get("table"):
        return ctx.concepts["order_line"]["table"]
    return ctx.concept("order")["table"]


def _common_conditions(frm: _From, document: dict[str, Any], ctx: _Context, base: str) -> list[exp.Expression]:
    p = ctx.params
    period, eligibility = document["period"], document["eligibility"]
    order_date = frm.column("order_date")
    conditions: list[exp.Expression] = [
        exp.GTE(this=order_date, expression=p(dt.date.fromisoformat(period["start"]))),
        exp.LT(this=order_date.copy(), expression=p(_day_after(period["end"]))),
    ]
    excluded = eligibility.get("excluded_statuses") or []
    if excluded:
        status = ctx.concept("order_status")
        raw: list[str] = []
        for logical in excluded:
            raw += [v for v in (status.get("values") or {}).get(logical) or [logical] if v not in raw]
        column = frm.column("order_status")
        conditions.append(exp.Paren(this=exp.Or(
            this=exp.Is(this=column, expression=exp.Null()),
            expression=exp.Not(this=exp.In(this=column.copy(), expressions=[p(v) for v in raw])))))
    if eligibility.get("min_order_value"):
        sub = _From(ctx, base, "m")
        key = sub.entity_key("order")
        subquery = sub.apply(exp.select(key).group_by(key.copy()).having(
            exp.GTE(this=exp.Sum(this=sub.column("line_amount")),
                    expression=p(Decimal(eligibility["min_order_value"])))))
        conditions.append(frm.entity_key("order").isin(query=subquery))
    if eligibility.get("new_customers_only"):
        if not ctx.has("customer"):
            ctx.concept("customer")
        date_table = ctx.concept("order_date")["table"]
        holder = _From(ctx, date_table, "n")
        customer_key = holder.entity_key("customer")
        if customer_key.table != "n0":
            raise CompileError(_("“New customers only” needs the customer on the same table as the order date."),
                               code="new_customers_unsupported")
        earlier = exp.select(p(1)).from_(ctx.table(date_table, "n0")).where(_and([
            exp.EQ(this=customer_key, expression=_col(frm.alias(date_table), customer_key.name)),
            exp.LT(this=_col("n0", ctx.concept("order_date")["column"]),
                   expression=p(dt.date.fromisoformat(period["start"]))),
        ]))
        conditions.append(exp.Not(this=exp.Exists(this=earlier)))
    return conditions


def _participants_cte(ctx: _Context, base: str, fact_tables: set[str]) -> tuple[exp.Select, bool, bool]:
    """participant_id, region, employment_end (+ team) per participant; flags: region / team known."""
    salesperson = ctx.concept("salesperson")
    own_table = salesperson["table"].lower() not in fact_tables
    if own_table:
        frm = _From(ctx, salesperson["table"], "s", avoid=fact_tables)
        key = _col("s0", salesperson["column"])
        group = False
    else:
        frm = _From(ctx, base, "s")
        key = frm.entity_key("salesperson")
        group = True
    columns: list[exp.Expression] = [exp.alias_(key, "participant_id", quoted=True)]
    known = {}
    for concept, name in (("region", "region"), ("employment_end", "employment_end"), ("team", "team")):
        expression: exp.Expression = exp.Null()
        known[concept] = False
        if ctx.has(concept) and frm.reaches(ctx.concepts[concept]["table"]):
            expression = frm.column(concept)
            if group:
                expression = exp.Max(this=expression)
            known[concept] = True
        columns.append(exp.alias_(expression, name, quoted=True))
    select = frm.apply(exp.select(*columns))
    if group:
        select = select.group_by(key.copy())
    return select, known["region"], known["team"]


def _threshold_points(goal: dict[str, Any], attained: exp.Expression, eligible: exp.Expression,
                      p: _Params) -> exp.Expression:
    target = Decimal(goal["target"])
    whens = []
    for reward in sorted(goal.get("rewards") or [], key=lambda r: -Decimal(str(r["at_percent"]))):
        threshold = target * Decimal(str(reward["at_percent"])) / Decimal(100)
        whens.append((exp.GTE(this=attained.copy(), expression=p(threshold)), p(int(reward["points"]))))
    points: exp.Expression = _case(whens, p(0)) if whens else p(0)
    accrual = goal.get("points_per_unit")
    if accrual:
        ratio: exp.Expression = exp.Div(this=attained.copy(), expression=p(Decimal(accrual["per"])), typed=True)
        # Whole units only. CAST rounds in PostgreSQL and MySQL, so FLOOR first; SQLite's CAST truncates (the
        # same for amounts, which are never negative) and its FLOOR is an optional build feature.
        if p.dialect != "sqlite":
            ratio = exp.Floor(this=ratio)
        units = exp.Cast(this=ratio, to=exp.DataType.build("BIGINT"))
        accrued = exp.Mul(this=units, expression=p(int(accrual["points"])))
        points = exp.Add(this=exp.Paren(this=points), expression=accrued)
    return _case([(exp.EQ(this=eligible, expression=p(1)), points)], p(0))


def campaign_compile(*, document: dict[str, Any], mapping: dict[str, Any], dialect: str,
                     definition: dict[str, Any] | None = None, preview_limit: int = PREVIEW_LIMIT) -> CompiledCampaign:
    """Compile ``document`` (validated here) against ``mapping`` for ``dialect``.

    Raises CompileError (422) when the rules need a concept or a join the mapping does not have.
    """
    if dialect not in DIALECTS:
        raise CompileError(_("Unsupported SQL dialect: %(dialect)s.") % {"dialect": dialect},
                           code="dialect_unsupported")
    rule_document_validate(document=document)
    warnings: list[dict[str, str]] = []
    builder = _Builder(document, mapping, definition, dialect, warnings)
    participants = builder.participants()
    regions = builder.scope_rollup("region") if any(g["scope"] == "region" for g in document["goals"]) else None
    company = builder.scope_rollup("company") if any(g["scope"] == "company" for g in document["goals"]) else None
    preview = builder.preview(preview_limit)
    if document.get("caps", {}).get("budget_points"):
        warnings.append({"code": "budget_not_in_sql", "message": _(
            "The campaign budget is applied when points are awarded, not in the SQL.")})
    currency = (mapping.get("concepts", {}).get("currency") or {})
    if currency.get("table"):
        warnings.append({"code": "currency_not_converted", "message": _(
            "Amounts are summed as stored in %(column)s's currency; no conversion is made.")
            % {"column": f"{currency['table']}.{currency['column']}"}})
    return CompiledCampaign(participants=participants, preview=preview, regions=regions, company=company,
                            warnings=warnings)


class _Builder:
    def __init__(self, document: dict[str, Any], mapping: dict[str, Any], definition: dict[str, Any] | None,
                 dialect: str, warnings: list[dict[str, str]]) -> None:
        self.document = document
        self.mapping = mapping
        self.definition = definition
        self.dialect = dialect
        self.warnings = warnings
        for goal in document["goals"]:
            if goal["scope"] == "team" and not (mapping.get("concepts", {}).get("team") or {}).get("table"):
                raise CompileError(_("A team goal needs the team of each salesperson mapped in the schema."),
                                   code="concept_unmapped", fields={"team": [_("Not mapped.")]})

    def _fresh(self) -> tuple[_Context, _Params]:
        params = _Params(self.dialect)
        return _Context(self.mapping, self.definition, params), params

    def _finish(self, ctx: _Context, select: exp.Expression, columns: list[str]) -> CompiledQuery:
        sql, params = ctx.params.finish(select.sql(dialect=self.dialect))
        return CompiledQuery(sql=sql, params=params, dialect=self.dialect, paramstyle=PARAMSTYLES[self.dialect],
                             columns=columns, tables=sorted(ctx.tables_used))

    def _facts(self, ctx: _Context) -> tuple[exp.Select, str, set[str]]:
        """Per participant, each goal's attained value over eligible sales."""
        p = ctx.params
        goals = self.document["goals"]
        base = _fact_base(ctx)
        frm = _From(ctx, base, "f")
        for concept in ("order",):
            if ctx.concept(concept)["table"].lower() != base.lower():
                frm.alias(ctx.concept(concept)["table"])
        conditions = _common_conditions(frm, self.document, ctx, base)
        shared = len({_filters_key(g) for g in goals}) == 1
        if shared:
            conditions += _goal_filter(frm, goals[0], p)
        key = frm.entity_key("salesperson")
        columns: list[exp.Expression] = [exp.alias_(key, "participant_id", quoted=True)]
        for goal in goals:
            condition = None if shared else _paren_and(_goal_filter(frm, goal, p))
            columns.append(exp.alias_(_metric(frm, goal, condition), goal["id"], quoted=True))
        select = frm.apply(exp.select(*columns)).where(_paren_and(conditions)).group_by(key.copy())
        fact_tables = set(frm.aliases)
        return select, base, fact_tables

    def _attained(self, ctx: _Context) -> tuple[exp.Select, bool]:
        p = ctx.params
        facts, base, fact_tables = self._facts(ctx)
        participants, region_known, _team = _participants_cte(ctx, base, fact_tables)
        eligibility = self.document["eligibility"]
        period_end = dt.date.fromisoformat(self.document["period"]["end"])
        reasons: list[tuple[exp.Expression, exp.Expression]] = []
        if eligibility.get("employed_through_end"):
            ctx.concept("employment_end")
            ended = _col("pp", "employment_end")
            reasons.append((exp.And(this=exp.Not(this=exp.Is(this=ended, expression=exp.Null())),
                                    expression=exp.LT(this=ended.copy(), expression=p(period_end))),
                            p(REASON_TERMINATED)))
        if eligibility.get("regions"):
            if not region_known:
                ctx.concept("region")
            region = _col("pp", "region")
            reasons.append((exp.Or(this=exp.Is(this=region, expression=exp.Null()), expression=exp.Not(
                this=_lower_in(region.copy(), eligibility["regions"], p))), p(REASON_REGION)))
        columns: list[exp.Expression] = [
            exp.alias_(_col("pp", "participant_id"), "participant_id", quoted=True),
            exp.alias_(_col("pp", "region"), "region", quoted=True),
            exp.alias_(_case([(c, p(0)) for c, _r in reasons], p(1)) if reasons else p(1), "eligible", quoted=True),
            exp.alias_(_case([(c.copy(), r) for c, r in reasons], exp.Null()) if reasons else exp.Null(),
                       "ineligible_reason", quoted=True),
        ]
        for goal in self.document["goals"]:
            value = exp.Coalesce(this=_col("ff", goal["id"]), expressions=[p(0)])
            if goal["scope"] == "region":
                value = exp.Window(this=exp.Sum(this=value), partition_by=[_col("pp", "region")])
            elif goal["scope"] == "team":
                value = exp.Window(this=exp.Sum(this=value), partition_by=[_col("pp", "team")])
            elif goal["scope"] == "company":
                value = exp.Window(this=exp.Sum(this=value))
            columns.append(exp.alias_(value, f"{goal['id']}_attained", quoted=True))
        select = (exp.select(*columns)
                  .from_(exp.Table(this=exp.to_identifier("pp")))
                  .join(exp.Table(this=exp.to_identifier("ff")), on=exp.EQ(
                      this=_col("ff", "participant_id"), expression=_col("pp", "participant_id")), join_type="LEFT"))
        select = select.with_("ff", as_=facts).with_("pp", as_=participants)
        return select, region_known

    def participants(self) -> CompiledQuery:
        ctx, p = self._fresh()
        attained, _region_known = self._attained(ctx)
        # The CTEs move to the outer query; the attained select becomes a CTE itself.
        ctes = attained.args.pop("with_", None)
        names = ["participant_id", "region", "eligible", "ineligible_reason"]
        columns: list[exp.Expression] = [_col("a", name) for name in names]
        point_terms: list[exp.Expression] = []
        for goal in self.document["goals"]:
            attained_col = _col("a", f"{goal['id']}_attained")
            percent = exp.Round(this=exp.Div(this=exp.Mul(this=attained_col, expression=p(Decimal(100))), typed=True,
                                             expression=p(Decimal(goal["target"]))),
                                decimals=exp.Cast(this=p(2), to=exp.DataType.build("INT")))
            points = _threshold_points(goal, attained_col.copy(), _col("a", "eligible"), p)
            columns += [attained_col.copy(), exp.alias_(percent, f"{goal['id']}_percent", quoted=True),
                        exp.alias_(points, f"{goal['id']}_points", quoted=True)]
            names += [f"{goal['id']}_attained", f"{goal['id']}_percent", f"{goal['id']}_points"]
            point_terms.append(points.copy())
        total: exp.Expression = point_terms[0]
        for term in point_terms[1:]:
            total = exp.Add(this=total, expression=term)
        cap = (self.document.get("caps") or {}).get("max_points_per_participant")
        if cap:
            total = _case([(exp.GT(this=total.copy(), expression=p(int(cap))), p(int(cap)))], total)
        columns.append(exp.alias_(total, "points_total", quoted=True))
        names.append("points_total")
        select = exp.select(*columns).from_(exp.Table(this=exp.to_identifier("a"), alias=None))
        select = select.order_by(_col("a", "participant_id"))
        with_ = exp.With(expressions=[*(ctes.expressions if ctes else []),
                                      exp.CTE(this=attained, alias=exp.TableAlias(this=exp.to_identifier("a")))])
        select.set("with_", with_)
        return self._finish(ctx, select, names)

    def scope_rollup(self, scope: str) -> CompiledQuery:
        ctx, p = self._fresh()
        facts, base, fact_tables = self._facts(ctx)
        participants, region_known, _team = _participants_cte(ctx, base, fact_tables)
        if scope == "region" and not region_known:
            ctx.concept("region")
        goals = [g for g in self.document["goals"] if g["scope"] == scope]
        columns: list[exp.Expression] = [_col("pp", "region")] if scope == "region" else []
        names = ["region"] if scope == "region" else []
        for goal in goals:
            attained = exp.Sum(this=exp.Coalesce(this=_col("ff", goal["id"]), expressions=[p(0)]))
            percent = exp.Round(this=exp.Div(this=exp.Mul(this=attained.copy(), expression=p(Decimal(100))), typed=True,
                                             expression=p(Decimal(goal["target"]))),
                                decimals=exp.Cast(this=p(2), to=exp.DataType.build("INT")))
            reached = _case([(exp.GTE(this=attained.copy(), expression=p(Decimal(goal["target"]))), p(1))], p(0))
            columns += [exp.alias_(attained, f"{goal['id']}_attained", quoted=True),
                        exp.alias_(percent, f"{goal['id']}_percent", quoted=True),
                        exp.alias_(reached, f"{goal['id']}_reached", quoted=True)]
            names += [f"{goal['id']}_attained", f"{goal['id']}_percent", f"{goal['id']}_reached"]
        select = (exp.select(*columns).from_(exp.Table(this=exp.to_identifier("pp")))
                  .join(exp.Table(this=exp.to_identifier("ff")), on=exp.EQ(
                      this=_col("ff", "participant_id"), expression=_col("pp", "participant_id")), join_type="LEFT"))
        if scope == "region":
            select = select.group_by(_col("pp", "region")).order_by(_col("pp", "region"))
        select = select.with_("ff", as_=facts).with_("pp", as_=participants)
        return self._finish(ctx, select, names)

    def preview(self, limit: int) -> CompiledQuery:
        ctx, p = self._fresh()
        goals = self.document["goals"]
        base = _fact_base(ctx)
        frm = _From(ctx, base, "f")
        conditions = _common_conditions(frm, self.document, ctx, base)
        any_goal = [_paren_and(_goal_filter(frm, goal, p)) for goal in goals]
        if all(condition is not None for condition in any_goal):
            combined = any_goal[0]
            for condition in any_goal[1:]:
                combined = exp.Or(this=combined, expression=condition)
            conditions.append(exp.Paren(this=combined))
        columns: list[exp.Expression] = [exp.alias_(frm.entity_key("salesperson"), "participant_id", quoted=True),
                                         exp.alias_(frm.entity_key("order"), "order_id", quoted=True),
                                         exp.alias_(frm.column("order_date"), "order_date", quoted=True)]
        names = ["participant_id", "order_id", "order_date"]
        for concept in ("order_status", "product_line", "region", "quantity", "line_amount"):
            if ctx.has(concept) and frm.reaches(ctx.concepts[concept]["table"]):
                columns.append(exp.alias_(frm.column(concept), concept, quoted=True))
                names.append(concept)
        select = frm.apply(exp.select(*columns)).where(_paren_and(conditions))
        select = select.order_by(frm.column("order_date"), frm.entity_key("order"))
        select = select.limit(int(limit))
        return self._finish(ctx, select, names)
