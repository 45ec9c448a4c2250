"""Source databases are reached read-only, with a statement timeout, never the platform's own database."""

from __future__ import annotations

import pytest
from django.conf import settings

from apps.rules.source_db import (
    SourceDatabaseError,
    connection_fetch,
    source_address_check,
    source_connect,
    source_fetch,
    source_parse_url,
)


def test_parses_urls_of_the_three_engines():
    pg = source_parse_url(url="postgresql://reader:s3cret@db.example.test:6543/sales?schema=crm")
    assert (pg.engine, pg.host, pg.port, pg.database, pg.user, pg.schema) == (
        "postgres", "db.example.test", 6543, "sales", "reader", "crm")
    assert pg.paramstyle == "format"
    my = source_parse_url(url="mariadb://root@127.0.0.1/sales")
    assert (my.engine, my.paramstyle) == ("mysql", "format")
    lite = source_parse_url(url="sqlite:////var/data/sales.db")
    assert (lite.engine, lite.database, lite.paramstyle) == ("sqlite", "/var/data/sales.db", "qmark")


def test_password_never_shows_in_repr():
    source = source_parse_url(url="postgresql://reader:s3cret@db.example.test/sales")
    assert "s3cret" not in repr(source)


@pytest.mark.parametrize("url", ["oracle://x@y/z", "http://example.test/db", "postgresql:///nohost", "sqlite://"])
def test_refuses_unsupported_or_incomplete_urls(url):
    with pytest.raises(SourceDatabaseError):
        source_parse_url(url=url)


def test_refuses_the_platform_database():
    ours = settings.DATABASES["default"]
    host = ours.get("HOST") or "localhost"
    url = f"postgresql://postgres@{host}:{ours.get('PORT') or 5432}/{ours['NAME']}"
    with pytest.raises(SourceDatabaseError) as caught:
        source_parse_url(url=url)
    # On a unix socket (the embedded server) our database cannot even be named in a source URL.
    assert caught.value.code == ("source_url_invalid" if host.startswith("/") else "source_url_forbidden")


def test_postgres_session_is_read_only(pg_sources):
    source = pg_sources["en"]
    with pytest.raises(SourceDatabaseError) as caught:
        source_fetch(source=source, sql="UPDATE orders SET status = %s", params=["hacked"])
    assert "read-only" in caught.value.message

    _columns, rows = source_fetch(source=source, sql="SELECT COUNT(*) FROM orders WHERE status = %s",
                                  params=["hacked"])
    assert rows == [(0,)]


def test_postgres_statement_timeout(pg_sources):
    with pytest.raises(SourceDatabaseError) as caught:
        source_fetch(source=pg_sources["en"], sql="SELECT pg_sleep(3)", timeout_ms=200)
    assert "timeout" in caught.value.message.lower()


def test_sqlite_session_is_read_only_and_time_limited(sqlite_sources):
    source = sqlite_sources["en"]
    with pytest.raises(SourceDatabaseError):
        source_fetch(source=source, sql="DELETE FROM orders")
    _columns, rows = source_fetch(source=source, sql="SELECT COUNT(*) FROM orders")
    assert rows[0][0] > 0
    slow = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n"
    with pytest.raises(SourceDatabaseError) as caught:
        source_fetch(source=source, sql=slow, timeout_ms=200)
    assert "interrupt" in caught.value.message.lower()


def test_mariadb_session_is_read_only_and_time_limited(mariadb_en):
    with pytest.raises(SourceDatabaseError) as caught:
        source_fetch(source=mariadb_en, sql="UPDATE orders SET status = %s", params=["hacked"])
    assert "read only" in caught.value.message.lower() or "read-only" in caught.value.message.lower()
    _columns, rows = source_fetch(source=mariadb_en, sql="SELECT COUNT(*) FROM orders WHERE status = %s",
                                  params=["hacked"])
    assert rows == [(0,)]
    with pytest.raises(SourceDatabaseError) as caught:
        source_fetch(source=mariadb_en, sql="SELECT SLEEP(3) FROM orders LIMIT 1", timeout_ms=300)
    assert "max_statement_time" in caught.value.message


def test_unreachable_database_is_a_clean_error_without_the_password():
    source = source_parse_url(url="postgresql://reader:s3cret@127.0.0.1:1/nothing")
    with pytest.raises(SourceDatabaseError) as caught, source_connect(source=source, timeout_ms=1000) as conn:
        connection_fetch(conn=conn, source=source, sql="SELECT 1")
    assert caught.value.code == "source_unreachable"
    assert "s3cret" not in caught.value.message


# --- network egress: customers' hosts on internal networks (SSRF) ---------------------------------------------


def test_internal_addresses_are_refused_when_the_platform_does_not_allow_them(pg_sources, settings):
    settings.SOURCE_DB_ALLOW_PRIVATE_NETWORKS = False
    settings.SOURCE_DB_ALLOWED_HOSTS = []
    for url in ("postgresql://reader@10.1.2.3/sales", "postgresql://reader@169.254.169.254/meta",
                "mysql://root@[::1]/sales", pg_sources["en"].url):
        with pytest.raises(SourceDatabaseError) as caught, source_connect(source=source_parse_url(url=url)):
            pass
        assert caught.value.code == "source_url_forbidden"
        assert "url" in caught.value.fields


def test_a_listed_internal_host_is_allowed_and_reached_by_its_checked_address(pg_sources, settings):
    source = pg_sources["en"]
    settings.SOURCE_DB_ALLOW_PRIVATE_NETWORKS = False
    settings.SOURCE_DB_ALLOWED_HOSTS = [source.host.upper()]
    assert source_fetch(source=source, sql="SELECT 1") == (["?column?"], [(1,)])


def test_public_addresses_pass_the_check(settings):
    settings.SOURCE_DB_ALLOW_PRIVATE_NETWORKS = False
    source = source_parse_url(url="postgresql://reader@93.184.216.34:5432/sales")
    assert source_address_check(source=source) == ["93.184.216.34"]


def test_an_unknown_host_is_a_clean_error():
    source = source_parse_url(url="postgresql://reader@no-such-host.invalid/sales")
    with pytest.raises(SourceDatabaseError) as caught:
        source_address_check(source=source)
    assert caught.value.code == "source_unreachable"
    assert "no-such-host.invalid" in str(caught.value.message)
