"""Schema ingestion: DDL in four dialects, JSON descriptions, live PostgreSQL / MariaDB / SQLite databases."""

from __future__ import annotations

import pytest

from apps.rules.demo_data import sales_ddl
from apps.rules.schema_ingest import SchemaIngestError, schema_from_ddl, schema_from_json, schema_introspect, type_kind


def _table(definition: dict, name: str) -> dict:
    return next(t for t in definition["tables"] if t["name"].lower() == name.lower())


def _column(table: dict, name: str) -> dict:
    return next(c for c in table["columns"] if c["name"].lower() == name.lower())


def test_postgres_ddl_reads_columns_keys_and_alter_table_foreign_keys():
    ddl = """
    CREATE TABLE public.orders (
        id serial PRIMARY KEY,
        order_date timestamp without time zone NOT NULL,
        salesperson_id integer REFERENCES salespeople(id),
        status varchar(20) CHECK (status IN ('open', 'cancelled', 'returned')),
        total numeric(12,2)
    );
    CREATE TABLE order_items (order_id int NOT NULL, line_no int, amount numeric(10,2),
                              PRIMARY KEY (order_id, line_no));
    ALTER TABLE order_items ADD CONSTRAINT fk_order FOREIGN KEY (order_id) REFERENCES orders (id);
    CREATE INDEX ix_items ON order_items (order_id);
    """
    definition = schema_from_ddl(ddl=ddl, dialect="postgres")

    orders = _table(definition, "orders")
    assert orders["schema"] == "public"
    assert orders["primary_key"] == ["id"]
    assert [c["name"] for c in orders["columns"]] == ["id", "order_date", "salesperson_id", "status", "total"]
    assert _column(orders, "order_date")["kind"] == "datetime"
    assert _column(orders, "order_date")["nullable"] is False
    assert _column(orders, "total")["kind"] == "decimal"
    assert _column(orders, "status")["values"] == ["open", "cancelled", "returned"]
    assert orders["foreign_keys"] == [{"columns": ["salesperson_id"], "ref_table": "salespeople",
                                       "ref_columns": ["id"]}]
    items = _table(definition, "order_items")
    assert items["primary_key"] == ["order_id", "line_no"]
    assert items["foreign_keys"] == [{"columns": ["order_id"], "ref_table": "orders", "ref_columns": ["id"]}]


def test_mysql_ddl_with_backticks_enum_and_table_constraints():
    ddl = """
    CREATE TABLE `pedidos` (
      `id` INT NOT NULL AUTO_INCREMENT,
      `data_pedido` DATE NOT NULL,
      `situacao` ENUM('concluido','cancelado','devolvido') NOT NULL,
      `vendedor_id` INT,
      PRIMARY KEY (`id`),
      KEY `ix_data` (`data_pedido`),
      CONSTRAINT `fk_vendedor` FOREIGN KEY (`vendedor_id`) REFERENCES `vendedores` (`id`)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
    CREATE TABLE `vendedores` (`id` INT PRIMARY KEY, `nome` VARCHAR(100));
    """
    definition = schema_from_ddl(ddl=ddl, dialect="mysql")

    pedidos = _table(definition, "pedidos")
    assert pedidos["primary_key"] == ["id"]
    assert _column(pedidos, "situacao")["values"] == ["concluido", "cancelado", "devolvido"]
    assert _column(pedidos, "situacao")["kind"] == "text"
    assert pedidos["foreign_keys"] == [{"columns": ["vendedor_id"], "ref_table": "vendedores", "ref_columns": ["id"]}]


def test_sql_server_ddl_with_brackets_identity_and_go_batches():
    ddl = """
    CREATE TABLE [dbo].[Orders] (
        [OrderID] INT IDENTITY(1,1) NOT NULL,
        [OrderDate] DATETIME2 NOT NULL,
        [Amount] MONEY NULL,
        [RepID] INT NULL,
        CONSTRAINT [PK_Orders] PRIMARY KEY CLUSTERED ([OrderID] ASC),
        CONSTRAINT [FK_Rep] FOREIGN KEY ([RepID]) REFERENCES [dbo].[Reps] ([RepID])
    );
    GO
    CREATE TABLE [dbo].[Reps] ([RepID] INT NOT NULL PRIMARY KEY, [Name] NVARCHAR(100));
    GO
    """
    definition = schema_from_ddl(ddl=ddl, dialect="tsql")

    orders = _table(definition, "Orders")
    assert orders["schema"] == "dbo"
    assert orders["primary_key"] == ["OrderID"]
    assert _column(orders, "Amount")["kind"] == "decimal"
    assert _column(orders, "OrderDate")["kind"] == "datetime"
    assert orders["foreign_keys"][0]["ref_table"] == "Reps"


def test_oracle_ddl_number_precision_gives_integer_or_decimal():
    ddl = """
    CREATE TABLE ventas (
        id NUMBER(10) PRIMARY KEY,
        importe NUMBER(12,2),
        vendedor_id NUMBER(10) REFERENCES vendedores(id),
        fecha_pedido DATE
    ) TABLESPACE users;
    CREATE TABLE vendedores (id NUMBER(10) PRIMARY KEY, nombre VARCHAR2(100));
    """
    definition = schema_from_ddl(ddl=ddl, dialect="oracle")

    ventas = _table(definition, "ventas")
    assert _column(ventas, "id")["kind"] == "integer"
    assert _column(ventas, "importe")["kind"] == "decimal"
    assert _column(ventas, "fecha_pedido")["kind"] in ("date", "datetime")
    assert ventas["foreign_keys"][0] == {"columns": ["vendedor_id"], "ref_table": "vendedores",
                                         "ref_columns": ["id"]}


@pytest.mark.parametrize("dialect", ["postgres", "mysql", "tsql", "sqlite"])
def test_generated_demo_ddl_round_trips_in_every_dialect(dialect):
    definition = schema_from_ddl(ddl=sales_ddl(shape="en", dialect=dialect), dialect=dialect)

    assert [t["name"] for t in definition["tables"]] == [
        "customers", "order_items", "orders", "product_lines", "products", "regions", "salespeople"]
    assert _table(definition, "order_items")["foreign_keys"] == [
        {"columns": ["order_id"], "ref_table": "orders", "ref_columns": ["id"]},
        {"columns": ["product_id"], "ref_table": "products", "ref_columns": ["id"]},
    ]


def test_ddl_parse_error_is_reported_with_its_position():
    with pytest.raises(SchemaIngestError) as caught:
        schema_from_ddl(ddl="CREATE TABLE orders (id int,, total numeric(", dialect="postgres")

    assert caught.value.code == "schema_parse_error"
    assert "line" in caught.value.message


def test_ddl_without_tables_is_refused():
    with pytest.raises(SchemaIngestError) as caught:
        schema_from_ddl(ddl="CREATE INDEX ix ON t (a); SELECT 1;", dialect="postgres")

    assert caught.value.code == "schema_empty"


def test_names_that_could_break_quoting_are_refused():
    with pytest.raises(SchemaIngestError):
        schema_from_json(description={"tables": [{"name": 'orders"; DROP TABLE x; --', "columns": ["id"]}]})


def test_unknown_dialect_is_refused():
    with pytest.raises(SchemaIngestError):
        schema_from_ddl(ddl="CREATE TABLE t (a int)", dialect="db2")


def test_json_description_with_column_dicts_and_references():
    definition = schema_from_json(description={
        "tables": [
            {"name": "orders", "columns": {"id": "integer", "placed_at": "timestamp", "total": "decimal(10,2)"},
             "primary_key": "id"},
            {"name": "order_lines", "columns": [
                {"name": "id", "type": "bigint", "primary_key": True},
                {"name": "order_id", "type": "integer", "references": "orders.id"},
                {"name": "amount", "type": "numeric"}]},
        ]
    })

    lines = _table(definition, "order_lines")
    assert lines["primary_key"] == ["id"]
    assert lines["foreign_keys"] == [{"columns": ["order_id"], "ref_table": "orders", "ref_columns": ["id"]}]
    assert _column(_table(definition, "orders"), "placed_at")["kind"] == "datetime"


def test_json_description_that_is_not_json_is_refused():
    with pytest.raises(SchemaIngestError):
        schema_from_json(description="{not json")
    with pytest.raises(SchemaIngestError):
        schema_from_json(description={"no_tables": []})


def test_type_kinds():
    assert type_kind("character varying(20)") == "text"
    assert type_kind("numeric(12,2)") == "decimal"
    assert type_kind("bigint") == "integer"
    assert type_kind("timestamp with time zone") == "datetime"
    assert type_kind("date") == "date"
    assert type_kind("REAL(12, 2)", dialect="sqlite") == "decimal"
    assert type_kind("") == "other"


def test_introspects_postgres_with_keys_and_sampled_status_values(pg_sources):
    definition = schema_introspect(source=pg_sources["en"])

    assert {t["name"] for t in definition["tables"]} == {
        "customers", "order_items", "orders", "product_lines", "products", "regions", "salespeople"}
    orders = _table(definition, "orders")
    assert orders["primary_key"] == ["id"]
    assert {"columns": ["salesperson_id"], "ref_table": "salespeople", "ref_columns": ["id"]} in orders["foreign_keys"]
    assert _column(orders, "status")["values"] == ["cancelled", "completed", "returned"]
    assert _column(_table(definition, "order_items"), "total")["kind"] == "decimal"


def test_introspects_postgres_without_declared_keys(pg_sources):
    definition = schema_introspect(source=pg_sources["pt"])

    pedidos = _table(definition, "pedidos")
    assert pedidos["primary_key"] == []
    assert pedidos["foreign_keys"] == []
    assert _column(pedidos, "situacao")["values"] == ["cancelado", "concluido", "devolvido"]


def test_introspects_sqlite(sqlite_sources):
    definition = schema_introspect(source=sqlite_sources["en"])

    items = _table(definition, "order_items")
    assert items["primary_key"] == ["id"]
    assert {"columns": ["order_id"], "ref_table": "orders", "ref_columns": ["id"]} in items["foreign_keys"]
    assert _column(_table(definition, "orders"), "order_date")["kind"] == "date"


def test_introspects_mariadb(mariadb_en):
    definition = schema_introspect(source=mariadb_en)

    orders = _table(definition, "orders")
    assert orders["primary_key"] == ["id"]
    assert {"columns": ["salesperson_id"], "ref_table": "salespeople", "ref_columns": ["id"]} in orders["foreign_keys"]
    assert _column(orders, "status")["values"] == ["cancelled", "completed", "returned"]
    assert _column(_table(definition, "order_items"), "total")["kind"] == "decimal"
