"""JSON logs: the real handler's output, parsed back; request id and tenant on every line; no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest
from django.test import Client as DjangoClient

from tests.conftest import OWNER_PASSWORD
from tests.factories.accounts import DEFAULT_PASSWORD


@pytest.fixture
def json_logs() -> Iterator[Callable[[], list[dict]]]:
    """Everything the configured ``console`` handler writes during the test, one dict per line."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    finally:
        handler.setStream(previous)


def _access_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "incentiva.access"]


def test_a_tenant_request_writes_one_json_access_line_with_request_id_tenant_and_user(web_client, make_user,
                                                                                     json_logs):
    user = make_user(role="manager")
    client = web_client(user=user)

    response = client.get("/", HTTP_X_REQUEST_ID="req-1234abcd")

    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-1234abcd"
    [line] = _access_lines(json_logs())
    assert line["level"] == "INFO"
    assert line["message"] == "GET / 200"
    assert line["method"] == "GET"
    assert line["path"] == "/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float | int)
    assert line["request_id"] == "req-1234abcd"
    assert line["tenant"] == "alpha"
    assert line["user_id"] == str(user.pk)
    assert "time" in line


def test_access_line_never_holds_headers_cookies_or_the_query_string(web_client, make_user, json_logs):
    client = web_client(user=make_user(role="manager"))

    client.get("/?access_token=query-secret-123", HTTP_AUTHORIZATION="Bearer header-secret-456",
               HTTP_COOKIE="extra=cookie-secret-789")

    raw = json.dumps(json_logs())
    assert "query-secret-123" not in raw
    assert "header-secret-456" not in raw
    assert "cookie-secret-789" not in raw
    assert "sessionid" not in raw
    [line] = _access_lines(json_logs())
    assert line["path"] == "/"


def test_a_generated_request_id_replaces_a_malformed_one_and_is_logged(json_logs, db):
    response = DjangoClient(HTTP_HOST="localhost").get("/", HTTP_X_REQUEST_ID="bad id\nwith newline")

    generated = response["X-Request-ID"]
    assert generated != "bad id\nwith newline"
    assert len(generated) == 32
    [line] = _access_lines(json_logs())
    assert line["request_id"] == generated
    assert line["tenant"] == "public"
    assert line["user_id"] is None


def test_an_unknown_host_is_logged_without_a_tenant(json_logs, db):
    DjangoClient(HTTP_HOST="nobody.localhost").get("/")

    [line] = _access_lines(json_logs())
    assert line["status"] == 404
    assert line["tenant"] == "-"


def test_a_failed_sign_in_never_logs_the_password(db, json_logs):
    client = DjangoClient(HTTP_HOST="alpha.localhost")

    client.post("/admin/login/?next=/admin/", {"username": "owner@alpha.test", "password": "Wrong-pass-98765"})
    client.post("/accounts/login/", {"login": "owner@alpha.test", "password": OWNER_PASSWORD + "x"})

    raw = json.dumps(json_logs())
    assert "Wrong-pass-98765" not in raw
    assert OWNER_PASSWORD not in raw
    assert len(_access_lines(json_logs())) == 2


def test_extra_fields_with_secret_names_are_redacted_at_any_depth(json_logs, tenant):
    logger = logging.getLogger("apps.anything")

    logger.warning("partner call failed", extra={
        "password": DEFAULT_PASSWORD,
        "client_secret": "cs-1",
        "payload": {"api_key": "ak-2", "nested": [{"refresh_token": "rt-3"}], "amount": 10},
        "headers": {"Authorization": "Bearer ey.abc.def", "X-Api-Key": "xk-4", "Accept": "application/json"},
        "input_tokens": 1200,
    })

    [line] = json_logs()
    raw = json.dumps(line)
    for secret in (DEFAULT_PASSWORD, "cs-1", "ak-2", "rt-3", "ey.abc.def", "xk-4"):
        assert secret not in raw
    assert line["password"] == "[REDACTED]"
    assert line["payload"]["amount"] == 10
    assert line["payload"]["nested"] == [{"refresh_token": "[REDACTED]"}]
    assert line["headers"]["Accept"] == "application/json"
    assert line["input_tokens"] == 1200  # a usage count, not a credential
    # Outside a request the tenant is the schema the connection points at.
    assert line["tenant"] == "alpha"
    assert line["request_id"] == "-"


def test_a_secret_field_name_is_redacted_every_time_it_is_logged(json_logs, tenant):
    # The filter remembers which field names look secret: the second and later records are masked too, and an
    # ordinary name stays ordinary.
    logger = logging.getLogger("apps.anything")
    for attempt in range(3):
        logger.warning("retrying", extra={"client_secret": f"cs-{attempt}", "attempt": attempt})
    lines = json_logs()
    assert [line["client_secret"] for line in lines] == ["[REDACTED]"] * 3
    assert [line["attempt"] for line in lines] == [0, 1, 2]


@pytest.mark.parametrize(
    ("message", "args", "secret"),
    [
        ("login failed password=%s", ("hunter2-secret",), "hunter2-secret"),
        ("calling partner with Authorization: Bearer %s", ("abcdefgh.ijklmnop.qrstu",), "abcdefgh.ijklmnop.qrstu"),
        ('body was {"token": "%s", "id": 3}', ("tok-77777777",), "tok-77777777"),
        ("api_key='%s' rejected", ("sk-live-55555555",), "sk-live-55555555"),
    ],
)
def test_secrets_inside_messages_are_redacted(json_logs, db, message, args, secret):
    logging.getLogger("apps.anything").error(message, *args)

    [line] = json_logs()
    assert secret not in line["message"]
    assert "[REDACTED]" in line["message"]


def test_an_ordinary_message_is_left_alone(json_logs, db):
    logging.getLogger("apps.anything").info("awarded %s points to %s", 50, "member-1")

    [line] = json_logs()
    assert line["message"] == "awarded 50 points to member-1"


def test_django_request_warnings_carry_the_request_id_too(json_logs, db):
    response = DjangoClient(HTTP_HOST="localhost").get("/no-such-page/")

    lines = json_logs()
    [warning] = [line for line in lines if line["logger"] == "django.request"]
    assert warning["message"] == "Not Found: /no-such-page/"
    assert warning["request_id"] == response["X-Request-ID"]
    assert warning["tenant"] == "public"
    assert warning["request"] == "GET /no-such-page/"


def test_the_request_context_ends_with_the_request(json_logs, tenant):
    DjangoClient(HTTP_HOST="localhost").get("/")

    logging.getLogger("apps.anything").info("after the request")

    after = json_logs()[-1]
    assert after["message"] == "after the request"
    assert after["request_id"] == "-"


@pytest.mark.parametrize("text", [
    "GET /api/loyalty-referral/points/B000001 200", "PASSWORD=x", "X-Api_Key: y", "my apikey", "Authorisation",
    "authorization: Bearer abc", "BASIC realm", "the SessionId", "cookie", "tokens", "ſecret=1", "ṗassword",
    "Kelvin \u212a", "naïve text", "",
])
def test_the_quick_secret_word_check_agrees_with_the_regex(text):
    from apps.core.logging import _MAYBE_SECRET, _maybe_secret

    assert _maybe_secret(text) is (_MAYBE_SECRET.search(text) is not None)
