"""A realistic source sales database for demos, tests and the benchmark, in three shapes.

- ``en``: English names, normalised, primary and foreign keys declared (regions, salespeople, product_lines,
  products, customers, orders, order_items).
- ``pt``: Portuguese names, normalised, no key declared at all (regioes, vendedores, linhas_produto, produtos,
  clientes, pedidos, itens_pedido): joins must be inferred from names and types.
- ``es-denorm``: one denormalised Spanish sales table (ventas), one row per order line.

Data is deterministic for a seed: regions, salespeople with hire and termination dates, products in product
lines including "Premium Line", customers, orders (completed, cancelled, returned) and order lines over the
year 2025-07-01 .. 2026-06-30. PostgreSQL is loaded with COPY (keys and indexes added after the load),
SQLite and MySQL with batched inserts.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlglot

from apps.rules.source_db import SourceDatabase

SHAPES = ("en", "pt", "es-denorm")
DATA_START = dt.date(2025, 7, 1)
DATA_DAYS = 365
PRODUCT_LINES = ("Premium Line", "Standard Line", "Essentials Line", "Professional Line")
PREMIUM_LINE = "Premium Line"
STATUS_VALUES = {
    "en": {"completed": "completed", "cancelled": "cancelled", "returned": "returned"},
    "pt": {"completed": "concluido", "cancelled": "cancelado", "returned": "devolvido"},
    "es-denorm": {"completed": "completado", "cancelled": "cancelado", "returned": "devuelto"},
}
REGIONS = {
    "en": ("North", "South", "East", "West", "Central"),
    "pt": ("Norte", "Sul", "Sudeste", "Nordeste", "Centro-Oeste"),
    "es-denorm": ("Norte", "Sur", "Centro", "Occidente", "Bajío"),
}
CATEGORIES = {
    "en": ("Electronics", "Home", "Office"),
    "pt": ("Eletrônicos", "Casa", "Escritório"),
    "es-denorm": ("Electrónica", "Hogar", "Oficina"),
}
CURRENCY = {"en": "BRL", "pt": "BRL", "es-denorm": "MXN"}
_FIRST = ("Ana", "Bruno", "Carla", "Diego", "Elena", "Felipe", "Gabriela", "Hugo", "Isabel", "João", "Karen",
          "Lucas", "Marina", "Nicolás", "Olivia", "Pedro", "Raquel", "Sofía", "Tiago", "Valeria")
_LAST = ("Silva", "Santos", "García", "Oliveira", "Martínez", "Souza", "López", "Pereira", "Smith", "Costa",
         "Hernández", "Almeida", "Johnson", "Ribeiro", "Torres", "Lima")

# Table specs in PostgreSQL syntax: (name, [(column, type, not null)], primary key, [(column, ref table)]).
_Spec = tuple[str, list[tuple[str, str, bool]], str | None, list[tuple[str, str]]]
_EN: list[_Spec] = [
    ("regions", [("id", "INTEGER", True), ("name", "VARCHAR(100)", True)], "id", []),
    ("salespeople", [("id", "INTEGER", True), ("name", "VARCHAR(200)", True), ("email", "VARCHAR(200)", False),
                     ("region_id", "INTEGER", False), ("hire_date", "DATE", True),
                     ("termination_date", "DATE", False)], "id", [("region_id", "regions")]),
    ("product_lines", [("id", "INTEGER", True), ("name", "VARCHAR(100)", True)], "id", []),
    ("products", [("id", "INTEGER", True), ("sku", "VARCHAR(20)", True), ("name", "VARCHAR(200)", True),
                  ("product_line_id", "INTEGER", False), ("category", "VARCHAR(100)", False),
                  ("unit_price", "NUMERIC(12,2)", True)], "id", [("product_line_id", "product_lines")]),
    ("customers", [("id", "INTEGER", True), ("name", "VARCHAR(200)", True), ("created_on", "DATE", True)], "id", []),
    ("orders", [("id", "INTEGER", True), ("order_date", "DATE", True), ("customer_id", "INTEGER", False),
                ("salesperson_id", "INTEGER", False), ("status", "VARCHAR(20)", True), ("currency", "CHAR(3)", True)],
     "id", [("customer_id", "customers"), ("salesperson_id", "salespeople")]),
    ("order_items", [("id", "INTEGER", True), ("order_id", "INTEGER", True), ("product_id", "INTEGER", True),
                     ("quantity", "INTEGER", True), ("unit_price", "NUMERIC(12,2)", True),
                     ("total", "NUMERIC(12,2)", True)], "id", [("order_id", "orders"), ("product_id", "products")]),
]
_PT: list[_Spec] = [
    ("regioes", [("id", "INTEGER", True), ("nome", "VARCHAR(100)", True)], None, []),
    ("vendedores", [("id", "INTEGER", True), ("nome", "VARCHAR(200)", True), ("email", "VARCHAR(200)", False),
                    ("regiao_id", "INTEGER", False), ("data_admissao", "DATE", True),
                    ("data_desligamento", "DATE", False)], None, []),
    ("linhas_produto", [("id", "INTEGER", True), ("nome", "VARCHAR(100)", True)], None, []),
    ("produtos", [("id", "INTEGER", True), ("sku", "VARCHAR(20)", True), ("nome", "VARCHAR(200)", True),
                  ("linha_produto_id", "INTEGER", False), ("categoria", "VARCHAR(100)", False),
                  ("preco", "NUMERIC(12,2)", True)], None, []),
    ("clientes", [("id", "INTEGER", True), ("nome", "VARCHAR(200)", True), ("cliente_desde", "DATE", True)], None, []),
    ("pedidos", [("id", "INTEGER", True), ("data_pedido", "DATE", True), ("cliente_id", "INTEGER", False),
                 ("vendedor_id", "INTEGER", False), ("situacao", "VARCHAR(20)", True), ("moeda", "CHAR(3)", True)],
     None, []),
    ("itens_pedido", [("id", "INTEGER", True), ("pedido_id", "INTEGER", True), ("produto_id", "INTEGER", True),
                      ("quantidade", "INTEGER", True), ("preco_unitario", "NUMERIC(12,2)", True),
                      ("valor_total", "NUMERIC(12,2)", True)], None, []),
]
_ES: list[_Spec] = [
    ("ventas", [("id", "INTEGER", True), ("numero_pedido", "INTEGER", True), ("fecha_pedido", "DATE", True),
                ("estado", "VARCHAR(20)", True), ("moneda", "CHAR(3)", True), ("vendedor_id", "INTEGER", True),
                ("vendedor_nombre", "VARCHAR(200)", True), ("region", "VARCHAR(100)", True),
                ("fecha_ingreso", "DATE", True), ("fecha_baja", "DATE", False), ("cliente_id", "INTEGER", True),
                ("producto_sku", "VARCHAR(20)", True), ("producto_nombre", "VARCHAR(200)", True),
                ("linea_producto", "VARCHAR(100)", True), ("categoria", "VARCHAR(100)", True),
                ("cantidad", "INTEGER", True), ("precio_unitario", "NUMERIC(12,2)", True),
                ("importe", "NUMERIC(12,2)", True)], "id", []),
]
SPECS = {"en": _EN, "pt": _PT, "es-denorm": _ES}
# Indexes a real sales database would have on its join and filter columns.
_INDEXES = {
    "en": [("orders", "order_date"), ("orders", "salesperson_id"), ("order_items", "order_id"),
           ("order_items", "product_id"), ("products", "product_line_id")],
    "pt": [("pedidos", "data_pedido"), ("pedidos", "vendedor_id"), ("itens_pedido", "pedido_id"),
           ("itens_pedido", "produto_id")],
    "es-denorm": [("ventas", "fecha_pedido"), ("ventas", "vendedor_id")],
}


@dataclass
class SalesData:
    """Generated rows (amounts in cents, dates as ISO strings), shape-independent."""

    regions: list[tuple[int, str]] = field(default_factory=list)
    salespeople: list[tuple[int, str, str, int, str, str | None]] = field(default_factory=list)
    product_lines: list[tuple[int, str]] = field(default_factory=list)
    products: list[tuple[int, str, str, int, str, int]] = field(default_factory=list)
    customers: list[tuple[int, str, str]] = field(default_factory=list)
    orders: list[tuple[int, str, int, int, str]] = field(default_factory=list)  # id, date, customer, sp, status
    # id, order, product, quantity, unit price, total
    lines: list[tuple[int, int, int, int, int, int]] = field(default_factory=list)


def _day(offset: int) -> str:
    return (DATA_START + dt.timedelta(days=offset)).isoformat()


def sales_generate(*, lines: int, shape: str, seed: int = 1) -> SalesData:
    """Deterministic rows for ``lines`` order lines (about 2.5 lines per order)."""
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    data = SalesData()
    days = [_day(offset) for offset in range(DATA_DAYS)]
    data.regions = [(index + 1, name) for index, name in enumerate(REGIONS[shape])]
    data.product_lines = [(index + 1, name) for index, name in enumerate(PRODUCT_LINES)]
    n_salespeople = max(12, lines // 2000)
    windows: list[tuple[int, int]] = []
    for sp_id in range(1, n_salespeople + 1):
        if rng.random() < 0.7:
            hire = DATA_START - dt.timedelta(days=rng.randint(30, 3000))
            lo = 0
        else:
            lo = rng.randint(0, DATA_DAYS - 60)
            hire = DATA_START + dt.timedelta(days=lo)
        termination = None
        hi = DATA_DAYS - 1
        if rng.random() < 0.2:
            hi = rng.randint(lo + 20, DATA_DAYS - 1)
            termination = _day(hi)
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        email = f"seller{sp_id}@example.test"
        data.salespeople.append((sp_id, name, email, rng.randint(1, len(data.regions)), hire.isoformat(), termination))
        windows.append((lo, hi))
    n_products = max(40, lines // 20_000)
    for product_id in range(1, n_products + 1):
        line_id = 1 if product_id % 4 == 1 else rng.randint(2, len(PRODUCT_LINES))
        price = rng.randint(500, 250_000) if line_id == 1 else rng.randint(100, 60_000)
        data.products.append((product_id, f"SKU-{product_id:05d}", f"Product {product_id}", line_id,
                              rng.choice(CATEGORIES[shape]), price))
    n_customers = max(50, lines // 10)
    data.customers = [(cid, f"Customer {cid}", (DATA_START - dt.timedelta(days=rng.randint(0, 2000))).isoformat())
                      for cid in range(1, n_customers + 1)]
    # Some salespeople sell a lot more than others.
    weighted = [sp_id for sp_id in range(1, n_salespeople + 1) for _ in range(1 + (sp_id * 7919) % 5)]
    statuses = ["completed"] * 17 + ["cancelled"] * 2 + ["returned"]
    prices = [0] + [p[5] for p in data.products]
    # random() is several times faster than randint(): it matters at a million lines.
    uniform = rng.random
    n_weighted, n_statuses = len(weighted), len(statuses)
    orders_append, lines_append = data.orders.append, data.lines.append
    line_id = order_id = 0
    while line_id < lines:
        order_id += 1
        sp_id = weighted[int(uniform() * n_weighted)]
        lo, hi = windows[sp_id - 1]
        orders_append((order_id, days[lo + int(uniform() * (hi - lo + 1))], 1 + int(uniform() * n_customers), sp_id,
                       statuses[int(uniform() * n_statuses)]))
        for _ in range(min(1 + int(uniform() * 4), lines - line_id)):
            line_id += 1
            product_id = 1 + int(uniform() * n_products)
            qty = 1 + int(uniform() * 10)
            price = prices[product_id]
            lines_append((line_id, order_id, product_id, qty, price, qty * price))
    return data


# ------------------------------------------------------------------------------------------ rows per shape
def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _rows(data: SalesData, shape: str) -> dict[str, Iterator[tuple[Any, ...]]]:
    status = STATUS_VALUES[shape]
    currency = CURRENCY[shape]
    if shape in ("en", "pt"):
        names = [spec[0] for spec in SPECS[shape]]
        return {
            names[0]: iter(data.regions),
            names[1]: iter(data.salespeople),
            names[2]: iter(data.product_lines),
            names[3]: ((p[0], p[1], p[2], p[3], p[4], _money(p[5])) for p in data.products),
            names[4]: iter(data.customers),
            names[5]: ((o[0], o[1], o[2], o[3], status[o[4]], currency) for o in data.orders),
            names[6]: ((li[0], li[1], li[2], li[3], _money(li[4]), _money(li[5])) for li in data.lines),
        }
    regions = dict(data.regions)
    lines_by_id = {pl[0]: pl[1] for pl in data.product_lines}
    salespeople = {sp[0]: sp for sp in data.salespeople}
    products = {p[0]: p for p in data.products}
    orders = {o[0]: o for o in data.orders}

    def wide() -> Iterator[tuple[Any, ...]]:
        for line in data.lines:
            order = orders[line[1]]
            sp = salespeople[order[3]]
            product = products[line[2]]
            yield (line[0], order[0], order[1], status[order[4]], currency, sp[0], sp[1], regions[sp[3]], sp[4], sp[5],
                   order[2], product[1], product[2], lines_by_id[product[3]], product[4], line[3], _money(line[4]),
                   _money(line[5]))

    return {"ventas": wide()}


def _create_sql(spec: _Spec, dialect: str, with_foreign_keys: bool) -> str:
    name, columns, primary_key, foreign_keys = spec
    parts = [f"{column} {kind}{' NOT NULL' if not_null else ''}" for column, kind, not_null in columns]
    if primary_key:
        parts.append(f"PRIMARY KEY ({primary_key})")
    if with_foreign_keys:
        parts += [f"FOREIGN KEY ({column}) REFERENCES {ref} (id)" for column, ref in foreign_keys]
    ddl = f"CREATE TABLE {name} ({', '.join(parts)})"
    return sqlglot.transpile(ddl, read="postgres", write=dialect)[0]


def sales_ddl(*, shape: str, dialect: str = "postgres") -> str:
    """The shape's CREATE TABLE statements in ``dialect`` (with its foreign keys when it declares them)."""
    return ";\n".join(_create_sql(spec, dialect, True) for spec in SPECS[shape]) + ";\n"


# ------------------------------------------------------------------------------------------ loading
def _copy_text(rows: Iterator[tuple[Any, ...]]) -> Iterator[str]:
    chunk: list[str] = []
    for row in rows:
        chunk.append("\t".join(["\\N" if value is None else str(value) for value in row]))
        if len(chunk) >= 50_000:
            yield "\n".join(chunk) + "\n"
            chunk = []
    if chunk:
        yield "\n".join(chunk) + "\n"


def _load_postgres(source: SourceDatabase, shape: str, rows: dict[str, Iterator[tuple[Any, ...]]],
                   log: Callable[[str], None]) -> None:
    import psycopg

    with psycopg.connect(host=source.host, port=source.port or 5432, dbname=source.database,
                         user=source.user or None, password=source.password or None, autocommit=False) as conn:
        for spec in reversed(SPECS[shape]):
            conn.execute(f"DROP TABLE IF EXISTS {spec[0]} CASCADE")
        for spec in SPECS[shape]:
            conn.execute(_create_sql(spec, "postgres", with_foreign_keys=False))
        for spec in SPECS[shape]:
            name, columns = spec[0], [c[0] for c in spec[1]]
            with conn.cursor().copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                for chunk in _copy_text(rows[name]):
                    copy.write(chunk)
            log(f"loaded {name}")
        for spec in SPECS[shape]:
            for column, ref in spec[3]:
                conn.execute(f"ALTER TABLE {spec[0]} ADD FOREIGN KEY ({column}) REFERENCES {ref} (id)")
        for table, column in _INDEXES[shape]:
            conn.execute(f"CREATE INDEX {table}_{column}_idx ON {table} ({column})")
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")


def _insert_batches(cursor: Any, sql: str, rows: Iterator[tuple[Any, ...]], size: int = 5000) -> None:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            cursor.executemany(sql, batch)
            batch = []
    if batch:
        cursor.executemany(sql, batch)


def _load_sqlite(source: SourceDatabase, shape: str, rows: dict[str, Iterator[tuple[Any, ...]]],
                 log: Callable[[str], None]) -> None:
    conn = sqlite3.connect(source.database)
    try:
        for spec in reversed(SPECS[shape]):
            conn.execute(f"DROP TABLE IF EXISTS {spec[0]}")
        for spec in SPECS[shape]:
            conn.execute(_create_sql(spec, "sqlite", with_foreign_keys=True))
        for spec in SPECS[shape]:
            name, columns = spec[0], [c[0] for c in spec[1]]
            placeholders = ", ".join("?" for _ in columns)
            _insert_batches(conn, f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({placeholders})", rows[name])  # noqa: S608
            log(f"loaded {name}")
        for table, column in _INDEXES[shape]:
            conn.execute(f"CREATE INDEX {table}_{column}_idx ON {table} ({column})")
        conn.commit()
        conn.execute("ANALYZE")
    finally:
        conn.close()


def _load_mysql(source: SourceDatabase, shape: str, rows: dict[str, Iterator[tuple[Any, ...]]],
                log: Callable[[str], None]) -> None:
    import pymysql

    conn = pymysql.connect(host=source.host, port=source.port or 3306, user=source.user or "root",
                           password=source.password, database=source.database, charset="utf8mb4", autocommit=False)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
            for spec in reversed(SPECS[shape]):
                cursor.execute(f"DROP TABLE IF EXISTS {spec[0]}")
            for spec in SPECS[shape]:
                cursor.execute(_create_sql(spec, "mysql", with_foreign_keys=True))
            for spec in SPECS[shape]:
                name, columns = spec[0], [c[0] for c in spec[1]]
                placeholders = ", ".join("%s" for _ in columns)
                _insert_batches(cursor, f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({placeholders})",  # noqa: S608
                                rows[name])
                log(f"loaded {name}")
            for table, column in _INDEXES[shape]:
                cursor.execute(f"CREATE INDEX {table}_{column}_idx ON {table} ({column})")
            cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
        conn.commit()
    finally:
        conn.close()


def sales_database_load(*, source: SourceDatabase, shape: str, data: SalesData,
                        log: Callable[[str], None] = lambda message: None) -> dict[str, int]:
    """(Re)create the shape's tables in ``source`` and load ``data``; returns row counts per table."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}")
    rows = _rows(data, shape)
    loader = {"postgres": _load_postgres, "sqlite": _load_sqlite, "mysql": _load_mysql}[source.engine]
    loader(source, shape, rows, log)
    if shape == "es-denorm":
        return {"ventas": len(data.lines)}
    names = [spec[0] for spec in SPECS[shape]]
    counts = [len(data.regions), len(data.salespeople), len(data.product_lines), len(data.products),
              len(data.customers), len(data.orders), len(data.lines)]
    return dict(zip(names, counts, strict=True))


def postgres_database_create(*, source: SourceDatabase, drop: bool = False) -> None:
    """Create the PostgreSQL database ``source`` names (connecting to the server's ``postgres`` database)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=source.host, port=source.port or 5432, dbname="postgres", user=source.user or None,
                         password=source.password or None, autocommit=True) as conn:
        if drop:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(source.database)))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (source.database,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(source.database)))


def postgres_database_drop(*, source: SourceDatabase) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=source.host, port=source.port or 5432, dbname="postgres", user=source.user or None,
                         password=source.password or None, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(source.database)))
