"""Read-only access to a customer's source sales database (PostgreSQL, MySQL/MariaDB, SQLite).

Every session is read-only and time-limited on the server side (PostgreSQL ``default_transaction_read_only``
and ``statement_timeout``; MariaDB ``max_statement_time`` / MySQL ``max_execution_time`` inside a
``START TRANSACTION READ ONLY``; SQLite opened with ``mode=ro`` and a progress-handler deadline), and every
transaction is rolled back. The platform's own database is never accepted as a source.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from apps.core.errors import ApplicationError

ENGINES = ("postgres", "mysql", "sqlite")
# DB-API paramstyle of the driver used for each dialect (psycopg and PyMySQL: %s; sqlite3 and pyodbc: ?).
PARAMSTYLES = {"postgres": "format", "mysql": "format", "sqlite": "qmark", "tsql": "qmark", "oracle": "numeric"}
_SCHEMES = {
    "postgres": "postgres", "postgresql": "postgres", "pgsql": "postgres",
    "mysql": "mysql", "mariadb": "mysql", "mysql+pymysql": "mysql",
    "sqlite": "sqlite", "sqlite3": "sqlite",
}
DEFAULT_TIMEOUT_MS = 5000


class SourceDatabaseError(ApplicationError):
    default_code = "source_database_error"


@dataclass(frozen=True)
class SourceDatabase:
    """Where a source database is. ``url`` may hold a password: it is never shown in ``repr``."""

    engine: str
    url: str
    host: str = ""
    port: int | None = None
    database: str = ""
    user: str = ""
    password: str = ""
    schema: str = ""  # PostgreSQL schema to introspect (default: public)

    def __repr__(self) -> str:
        return f"SourceDatabase(engine={self.engine!r}, host={self.host!r}, database={self.database!r})"

    @property
    def dialect(self) -> str:
        return self.engine

    @property
    def paramstyle(self) -> str:
        return PARAMSTYLES[self.engine]


def source_parse_url(*, url: str) -> SourceDatabase:
    """Parse ``postgresql://user:pass@host:5432/db?schema=s``, ``mysql://...`` or ``sqlite:////abs/path.db``.

    Refuses other schemes and the platform's own PostgreSQL database.
    """
    url = (url or "").strip()
    parts = urlsplit(url)
    engine = _SCHEMES.get(parts.scheme.lower())
    if engine is None:
        raise SourceDatabaseError(
            _("Unsupported source database URL: use postgresql://, mysql:// or sqlite:///."),
            code="source_url_invalid", fields={"url": [_("Unsupported scheme.")]},
        )
    if engine == "sqlite":
        # SQLAlchemy's convention: sqlite:///relative.db, sqlite:////absolute/path.db
        path = unquote(parts.path or "")[1:]
        if parts.netloc not in ("", "localhost") or not path:
            raise SourceDatabaseError(_("A SQLite URL needs a file path: sqlite:////absolute/path.db."),
                                      code="source_url_invalid", fields={"url": [_("Missing file path.")]})
        return SourceDatabase(engine="sqlite", url=url, database=path)
    database = unquote((parts.path or "").lstrip("/"))
    if not parts.hostname or not database:
        raise SourceDatabaseError(_("The source database URL needs a host and a database name."),
                                  code="source_url_invalid", fields={"url": [_("Missing host or database.")]})
    query = parse_qs(parts.query)
    source = SourceDatabase(
        engine=engine, url=url, host=parts.hostname, port=parts.port, database=database,
        user=unquote(parts.username or ""), password=unquote(parts.password or ""),
        schema=(query.get("schema") or [""])[0],
    )
    _refuse_platform_database(source)
    return source


def _refuse_platform_database(source: SourceDatabase) -> None:
    if source.engine != "postgres":
        return
    ours = settings.DATABASES["default"]
    local = {"localhost", "127.0.0.1", "::1", ""}
    our_host = (ours.get("HOST") or "").lower()
    same_host = source.host.lower() == our_host or (source.host.lower() in local and our_host in local)
    same_port = (source.port or 5432) == int(ours.get("PORT") or 5432)
    names = {ours.get("NAME"), (ours.get("TEST") or {}).get("NAME") or f"test_{ours.get('NAME')}"}
    if same_host and same_port and source.database in names:
        raise SourceDatabaseError(_("The platform's own database cannot be used as a source database."),
                                  code="source_url_forbidden", fields={"url": [_("Not allowed.")]})


@contextlib.contextmanager
def source_connect(*, source: SourceDatabase, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Iterator[Any]:
    """A DB-API connection in a read-only transaction with a statement timeout; always rolled back."""
    try:
        conn = _open(source, timeout_ms)
    except SourceDatabaseError:
        raise
    except Exception as exc:
        raise SourceDatabaseError(
            _("Could not connect to the source database: %(error)s") % {"error": _redact(str(exc), source)},
            code="source_unreachable",
        ) from exc
    try:
        yield conn
    finally:
        with contextlib.suppress(Exception):
            conn.rollback()
        with contextlib.suppress(Exception):
            conn.close()


def source_address_check(*, source: SourceDatabase) -> list[str]:
    """The IP addresses to connect to for ``source``: its host resolved once, refused when it is a private,
    loopback, link-local or otherwise internal address, unless the platform allows those
    (``SOURCE_DB_ALLOW_PRIVATE_NETWORKS``) or names the host (``SOURCE_DB_ALLOWED_HOSTS``).

    Customers give us a host to connect to: without this, a tenant admin could make the worker probe the
    platform's own network (SSRF). Connecting to the address checked here, not the name, closes the gap a DNS
    answer that changes between check and connect (rebinding) would open."""
    try:
        infos = socket.getaddrinfo(source.host, source.port or None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise SourceDatabaseError(
            _("The source database host %(host)s could not be resolved.") % {"host": source.host},
            code="source_unreachable", fields={"url": [_("Unknown host.")]},
        ) from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    allowed_hosts = {host.lower() for host in settings.SOURCE_DB_ALLOWED_HOSTS}
    if not settings.SOURCE_DB_ALLOW_PRIVATE_NETWORKS and source.host.lower() not in allowed_hosts:
        internal = [address for address in addresses if not address.is_global]
        if internal:
            raise SourceDatabaseError(
                _("The source database host %(host)s is on an internal network, which this platform does not "
                  "allow. Ask the platform operator to allow it.") % {"host": source.host},
                code="source_url_forbidden", fields={"url": [_("Internal address not allowed.")]},
            )
    return list(dict.fromkeys(str(address) for address in addresses))


def _open(source: SourceDatabase, timeout_ms: int) -> Any:
    if source.engine == "postgres":
        import psycopg

        addresses = source_address_check(source=source)
        conn = psycopg.connect(
            # host names the server (TLS verification); hostaddr lists the addresses checked above, which libpq
            # tries in turn (one host entry per address).
            host=",".join([source.host] * len(addresses)), hostaddr=",".join(addresses), port=source.port or 5432,
            dbname=source.database, user=source.user or None,
            password=source.password or None, connect_timeout=max(1, timeout_ms // 1000),
            options=f"-c default_transaction_read_only=on -c statement_timeout={int(timeout_ms)}",
            autocommit=False,
        )
        conn.execute("SET TRANSACTION READ ONLY")
        return conn
    if source.engine == "mysql":
        import pymysql

        conn = _mysql_connect(source, source_address_check(source=source), timeout_ms)
        with conn.cursor() as cursor:
            try:  # MariaDB
                cursor.execute("SET SESSION max_statement_time = %s", (timeout_ms / 1000,))
            except pymysql.err.MySQLError:  # MySQL: SELECT statements only, in milliseconds
                cursor.execute("SET SESSION max_execution_time = %s", (int(timeout_ms),))
            cursor.execute("START TRANSACTION READ ONLY")
        return conn
    path = source.database
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout_ms / 1000, check_same_thread=False)
    deadline = time.monotonic() + timeout_ms / 1000
    # A non-zero return interrupts the running statement: SQLite's own statement timeout.
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    conn.execute("PRAGMA query_only = ON")
    return conn


def _mysql_connect(source: SourceDatabase, addresses: list[str], timeout_ms: int) -> Any:
    import pymysql

    for index, address in enumerate(addresses):
        try:
            return pymysql.connect(
                host=address, port=source.port or 3306, user=source.user or "root", password=source.password,
                database=source.database, connect_timeout=max(1, timeout_ms // 1000),
                read_timeout=max(1, timeout_ms // 1000) + 5, autocommit=False, charset="utf8mb4",
            )
        except pymysql.err.OperationalError:
            if index == len(addresses) - 1:
                raise
    raise AssertionError("unreachable: getaddrinfo returns at least one address")


def _redact(message: str, source: SourceDatabase) -> str:
    return message.replace(source.password, "***") if source.password else message


def source_fetch(*, source: SourceDatabase, sql: str, params: Sequence[Any] = (), max_rows: int | None = None,
                 timeout_ms: int = DEFAULT_TIMEOUT_MS) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one read-only query; returns (column names, rows). Database errors become SourceDatabaseError."""
    with source_connect(source=source, timeout_ms=timeout_ms) as conn:
        return connection_fetch(conn=conn, source=source, sql=sql, params=params, max_rows=max_rows)


def connection_fetch(*, conn: Any, source: SourceDatabase, sql: str, params: Sequence[Any] = (),
                     max_rows: int | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = conn.cursor()
    try:
        cursor.execute(sql, tuple(params)) if params else cursor.execute(sql)
        columns = [description[0] for description in (cursor.description or [])]
        rows = cursor.fetchmany(max_rows) if max_rows is not None else cursor.fetchall()
        return columns, [tuple(row) for row in rows]
    except Exception as exc:
        raise SourceDatabaseError(
            _("The source database refused the query: %(error)s") % {"error": _redact(str(exc), source)},
            code="source_query_failed",
        ) from exc
    finally:
        with contextlib.suppress(Exception):
            cursor.close()
