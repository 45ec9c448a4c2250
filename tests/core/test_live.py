"""The live channel end to end: incentiva.asgi's websocket stack, the real Redis channel layer, and users and
sessions committed in alpha and beta (the middleware reads them in Channels' database thread, on another
connection than the test's)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.test import Client as DjangoClient
from django_tenants.utils import schema_context
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.accounts.tokens import TenantRefreshToken
from apps.core import live
from apps.core.live import live_broadcast, live_topic_allowed, live_topic_authoriser_register, tenant_group
from incentiva.asgi import application

ALPHA, BETA = "alpha.localhost", "beta.localhost"
TIMEOUT = 5


@pytest.fixture
def people(committed):  # type: ignore[no-untyped-def]
    """Committed: a participant in alpha with a signed-in session and a JWT, another alpha participant,
    and a beta participant with a JWT."""
    alpha_user = committed.user("alpha")
    other_alpha_user = committed.user("alpha")
    beta_user = committed.user("beta")
    with schema_context("alpha"):
        browser = DjangoClient(HTTP_HOST=ALPHA)
        browser.force_login(alpha_user)
    session_key = browser.cookies[settings.SESSION_COOKIE_NAME].value

    def delete_session() -> None:
        with schema_context("alpha"):
            Session.objects.filter(session_key=session_key).delete()

    committed.on_cleanup(delete_session)

    def access_token(schema: str, user) -> str:  # type: ignore[no-untyped-def]
        with schema_context(schema):
            refresh = TenantRefreshToken.for_user(user)

        def forget() -> None:
            with schema_context(schema):
                OutstandingToken.objects.filter(jti=refresh["jti"]).delete()

        committed.on_cleanup(forget)
        return str(refresh.access_token)

    return type("People", (), {
        "alpha": alpha_user, "other_alpha": other_alpha_user, "beta": beta_user, "alpha_session": session_key,
        "alpha_token": access_token("alpha", alpha_user), "beta_token": access_token("beta", beta_user),
    })


def _socket(host: str = ALPHA, *, path: str = "/ws/live/", origin: str | None = None, session: str | None = None,
            token: str | None = None) -> WebsocketCommunicator:
    headers = [(b"host", host.encode()), (b"origin", f"http://{origin or host}".encode())]
    if session:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}; csrftoken=x".encode()))
    return WebsocketCommunicator(application, path, headers=headers,
                                 subprotocols=["bearer", token] if token is not None else None)


async def _open(communicator: WebsocketCommunicator) -> WebsocketCommunicator:
    connected, _subprotocol = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def _refusal(communicator: WebsocketCommunicator) -> int:
    """The close code of a refused socket (accepted, then closed at once so a browser sees the code)."""
    connected, _subprotocol = await communicator.connect(timeout=TIMEOUT)
    assert connected
    message = await communicator.receive_output(timeout=TIMEOUT)
    assert message["type"] == "websocket.close"
    await communicator.wait(timeout=TIMEOUT)
    return message["code"]


async def _subscribe(communicator: WebsocketCommunicator, topic: str) -> dict:
    await communicator.send_json_to({"action": "subscribe", "topic": topic})
    return await communicator.receive_json_from(timeout=TIMEOUT)


async def _broadcast(**kwargs) -> None:  # type: ignore[no-untyped-def]
    # Services call live_broadcast synchronously; run it the way they would, in a sync thread.
    await database_sync_to_async(live_broadcast)(**kwargs)


# ------------------------------------------------------------------------------------------ delivery
@pytest.mark.asyncio
async def test_a_broadcast_reaches_its_tenants_subscribers_only(people):
    # given a signed-in alpha browser and a beta app (JWT) both subscribed to "tenant"
    alpha = await _open(_socket(ALPHA, session=people.alpha_session))
    beta = await _open(_socket(BETA, token=people.beta_token))
    assert await _subscribe(alpha, "tenant") == {"type": "subscribed", "topic": "tenant"}
    assert await _subscribe(beta, "tenant") == {"type": "subscribed", "topic": "tenant"}

    # when a service running in alpha's schema broadcasts an announcement
    def alpha_service() -> None:
        with schema_context("alpha"):
            live_broadcast(topic="tenant", event="announcement.published",
                           payload={"id": uuid.UUID(int=7), "amount": Decimal("1.50")})

    await database_sync_to_async(alpha_service)()

    # then alpha's subscriber gets it (JSON-safe payload) and beta's does not
    assert await alpha.receive_json_from(timeout=TIMEOUT) == {
        "type": "event", "topic": "tenant", "event": "announcement.published",
        "payload": {"id": str(uuid.UUID(int=7)), "amount": "1.50"},
    }
    assert await beta.receive_nothing(timeout=0.5)

    # and the reverse holds for a broadcast in beta
    await _broadcast(topic="tenant", event="announcement.published", payload={"n": 2}, schema_name="beta")
    assert (await beta.receive_json_from(timeout=TIMEOUT))["payload"] == {"n": 2}
    assert await alpha.receive_nothing(timeout=0.5)
    await alpha.disconnect()
    await beta.disconnect()


@pytest.mark.asyncio
async def test_a_broadcast_waits_for_the_commit_and_is_dropped_on_rollback(people):
    alpha = await _open(_socket(ALPHA, session=people.alpha_session))
    await _subscribe(alpha, "tenant")

    def rolled_back() -> None:
        with schema_context("alpha"), transaction.atomic():
            live_broadcast(topic="tenant", event="never", payload={})
            transaction.set_rollback(True)

    def committed_after_checking() -> bool:
        with schema_context("alpha"), transaction.atomic():
            live_broadcast(topic="tenant", event="later", payload={})
            # Inside the transaction nothing has been sent yet.
            return bool(transaction.get_connection().run_on_commit)

    await database_sync_to_async(rolled_back)()
    assert await alpha.receive_nothing(timeout=0.5)

    assert await database_sync_to_async(committed_after_checking)()
    assert (await alpha.receive_json_from(timeout=TIMEOUT))["event"] == "later"
    await alpha.disconnect()


@pytest.mark.asyncio
async def test_topics_are_authorised(people):
    alpha = await _open(_socket(ALPHA, session=people.alpha_session))

    assert await _subscribe(alpha, f"user:{people.alpha.pk}") == {"type": "subscribed",
                                                                  "topic": f"user:{people.alpha.pk}"}
    assert await _subscribe(alpha, "tenant") == {"type": "subscribed", "topic": "tenant"}
    # a campaign's topic is for its participants and the staff (apps.campaigns' authoriser): not this one
    for forbidden in (f"user:{people.other_alpha.pk}", f"user:{people.beta.pk}", "admin", "campaign:", "user:me",
                      "campaign:42", f"campaign:{uuid.uuid4()}"):
        answer = await _subscribe(alpha, forbidden)
        assert answer["type"] == "error"
        assert answer["code"] == "forbidden_topic"
        assert answer["topic"] == forbidden
    await alpha.send_to(text_data="not json")
    assert (await alpha.receive_json_from(timeout=TIMEOUT))["code"] == "invalid_message"
    await alpha.send_json_to({"action": "dance", "topic": "tenant"})
    assert (await alpha.receive_json_from(timeout=TIMEOUT))["code"] == "invalid_message"

    # a broadcast to another user's topic never reaches this socket; one to its own topic does
    await _broadcast(topic=f"user:{people.other_alpha.pk}", event="points.awarded", payload={}, schema_name="alpha")
    assert await alpha.receive_nothing(timeout=0.5)
    await _broadcast(topic=f"user:{people.alpha.pk}", event="points.awarded", payload={"points": 5},
                     schema_name="alpha")
    assert (await alpha.receive_json_from(timeout=TIMEOUT))["payload"] == {"points": 5}

    # a refused topic hears nothing
    await _broadcast(topic="campaign:42", event="leaderboard.changed", payload={}, schema_name="alpha")
    assert await alpha.receive_nothing(timeout=0.5)

    # after unsubscribing, the topic is silent
    await alpha.send_json_to({"action": "unsubscribe", "topic": "tenant"})
    assert await alpha.receive_json_from(timeout=TIMEOUT) == {"type": "unsubscribed", "topic": "tenant"}
    await _broadcast(topic="tenant", event="announcement.published", payload={}, schema_name="alpha")
    assert await alpha.receive_nothing(timeout=0.5)
    await alpha.disconnect()


# ------------------------------------------------------------------------------------------ authentication
@pytest.mark.asyncio
async def test_a_jwt_authenticates_by_subprotocol_or_query_string(people):
    # the subprotocol pair "bearer, <token>": the server picks "bearer", never echoes the token
    by_header = _socket(ALPHA, token=people.alpha_token)
    connected, subprotocol = await by_header.connect(timeout=TIMEOUT)
    assert connected
    assert subprotocol == "bearer"
    assert (await _subscribe(by_header, f"user:{people.alpha.pk}"))["type"] == "subscribed"
    await by_header.disconnect()

    by_query = await _open(_socket(ALPHA, path=f"/ws/live/?token={people.alpha_token}"))
    assert (await _subscribe(by_query, f"user:{people.alpha.pk}"))["type"] == "subscribed"
    await by_query.disconnect()


@pytest.mark.asyncio
async def test_an_unauthenticated_socket_is_refused_with_4401(people):
    assert await _refusal(_socket(ALPHA)) == 4401
    assert await _refusal(_socket(ALPHA, session="not-a-session")) == 4401
    assert await _refusal(_socket(ALPHA, token="not.a.jwt")) == 4401
    assert await _refusal(_socket(ALPHA, token="")) == 4401
    # an invalid token is refused even with a valid session cookie beside it
    assert await _refusal(_socket(ALPHA, session=people.alpha_session, token="not.a.jwt")) == 4401


@pytest.mark.asyncio
async def test_a_jwt_from_another_tenant_is_refused(people):
    assert await _refusal(_socket(BETA, token=people.alpha_token)) == 4401
    assert await _refusal(_socket(BETA, path=f"/ws/live/?token={people.alpha_token}")) == 4401
    assert await _refusal(_socket(ALPHA, token=people.beta_token)) == 4401


@pytest.mark.asyncio
async def test_a_session_cookie_is_refused_on_another_tenants_host_or_a_cross_origin_socket(people):
    # alpha's session key means nothing in beta's schema
    assert await _refusal(_socket(BETA, session=people.alpha_session)) == 4401
    # a page on another (allowed) host cannot ride alpha's cookie
    assert await _refusal(_socket(ALPHA, origin=BETA, session=people.alpha_session)) == 4401


@pytest.mark.asyncio
async def test_unknown_hosts_the_public_site_and_unknown_paths_are_refused_with_4404(people):
    assert await _refusal(_socket("nowhere.localhost", session=people.alpha_session)) == 4404
    assert await _refusal(_socket("localhost", session=people.alpha_session)) == 4404
    assert await _refusal(_socket(ALPHA, path="/ws/elsewhere/", session=people.alpha_session)) == 4404


@pytest.mark.asyncio
async def test_an_origin_outside_allowed_hosts_is_denied_before_the_handshake(people):
    communicator = _socket(ALPHA, origin="evil.example", session=people.alpha_session)
    connected, _code = await communicator.connect(timeout=TIMEOUT)
    assert not connected


# ------------------------------------------------------------------------------------------ group names
@pytest.mark.parametrize(
    ("schema", "topic"),
    [("alpha", "tenant"), ("alpha", f"user:{uuid.uuid4()}"), ("beta", "campaign:42"), ("alpha", "çà et là 🎉"),
     ("alpha", "campaign:" + "x" * 150)],
)
def test_tenant_group_is_a_valid_channels_group_name(schema, topic):
    name = tenant_group(schema, topic)
    assert len(name) < 100
    assert get_channel_layer().require_valid_group_name(name)


def test_tenant_group_keeps_tenants_and_lookalike_topics_apart():
    names = {tenant_group("alpha", "user:1"), tenant_group("alpha", "user_1"), tenant_group("alpha", "user.1"),
             tenant_group("beta", "user:1"), tenant_group("alpha.user", "1")}
    assert len(names) == 5
    assert tenant_group("alpha", "tenant") == tenant_group("alpha", "tenant")


def test_object_topics_ask_the_authoriser_their_app_registered(monkeypatch):
    user = type("User", (), {"is_authenticated": True, "pk": uuid.uuid4()})()
    asked: list[dict] = []
    monkeypatch.setattr(live, "_AUTHORISERS", {})
    assert not live_topic_allowed(user=user, topic="campaign:7")  # nobody registered: refused

    def authorise(**kwargs) -> bool:  # type: ignore[no-untyped-def]
        asked.append(kwargs)
        return kwargs["object_id"] == "7"

    live_topic_authoriser_register(kind="campaign", authorise=authorise)
    assert live_topic_allowed(user=user, topic="campaign:7")
    assert not live_topic_allowed(user=user, topic="campaign:8")
    assert asked == [{"user": user, "object_id": "7"}, {"user": user, "object_id": "8"}]
    anonymous = type("Anonymous", (), {"is_authenticated": False})()
    assert not live_topic_allowed(user=anonymous, topic="campaign:7") and len(asked) == 2
    with pytest.raises(ValueError):
        live_topic_authoriser_register(kind="order", authorise=authorise)


def test_the_campaigns_app_installs_the_campaign_authoriser():
    # apps.campaigns' AppConfig.ready registered it (tests/campaigns/test_selectors_dashboard.py tests the rule)
    assert "campaign" in live._AUTHORISERS


def test_live_broadcast_refuses_the_public_schema():
    with pytest.raises(ValueError, match="tenant schema"):
        live_broadcast(topic="tenant", event="x", payload={}, schema_name="public")


@pytest.mark.django_db
def test_a_failing_channel_layer_is_logged_and_never_breaks_the_write(monkeypatch, caplog,
                                                                      django_capture_on_commit_callbacks):
    # Best effort: a broadcast that cannot reach Redis must not fail the service that committed its write.
    def unreachable(group, message):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(live, "_group_send", unreachable)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        live_broadcast(topic="tenant", event="x", payload={"n": 1}, schema_name="alpha")

    assert len(callbacks) == 1
    assert "redis is down" in caplog.text
