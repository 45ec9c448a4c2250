"""@idempotent on views defined here (routed with pytest.mark.urls), through the real middleware stack.

The tests run inside the test transaction (so the view's transaction is a savepoint); the concurrency
and commit behaviour with real PostgreSQL transactions is in test_idempotency_concurrency.py.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import include, path
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.idempotency import idempotent
from apps.core.errors import ConflictError
from apps.core.models import IdempotencyRecord
from apps.core.services import idempotency_record_purge
from apps.core.tasks import idempotency_purge
from tests.conftest import TENANT_HOSTS
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.urls(__name__)


class GroupCreateView(APIView):
    """Writes a row, then answers according to the name it was given."""

    permission_classes = [IsAuthenticated]

    @idempotent
    def post(self, request):  # type: ignore[no-untyped-def]
        name = request.data["name"]
        group = Group.objects.create(name=f"{name}/{uuid.uuid4().hex}")
        if name.startswith("invalid"):
            raise serializers.ValidationError({"name": ["Rejected after writing."]})
        if name.startswith("conflict"):
            raise ConflictError("Busy.", code="busy")
        if name.startswith("crash"):
            raise RuntimeError("boom")
        return Response({"id": group.pk, "name": name}, status=201, headers={"Location": f"/groups/{group.pk}"})


class RequiredKeyView(GroupCreateView):
    idempotency_required = True


class RedeemViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]

    @action(detail=False, methods=["post"])
    @idempotent
    def redeem(self, request):  # type: ignore[no-untyped-def]
        group = Group.objects.create(name=f"{request.data['name']}/{uuid.uuid4().hex}")
        return Response({"id": group.pk}, status=200)


urlpatterns = [
    path("test/groups", GroupCreateView.as_view()),
    path("test/groups-too", GroupCreateView.as_view()),
    path("test/required", RequiredKeyView.as_view()),
    path("test/redeem", RedeemViewSet.as_view({"post": "redeem"})),
    path("", include("incentiva.urls_tenants")),
]


def _groups(name: str) -> int:
    return Group.objects.filter(name__startswith=f"{name}/").count()


def _post(client, url, body, key=None, **extra):  # type: ignore[no-untyped-def]
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, json.dumps(body) if isinstance(body, dict) else body,
                       content_type="application/json", **headers, **extra)


def test_without_a_key_every_request_runs(api_client):
    client = api_client("admin")

    _post(client, "/test/groups", {"name": "a"})
    _post(client, "/test/groups", {"name": "a2"})

    assert _groups("a") + _groups("a2") == 2
    assert not IdempotencyRecord.objects.exists()


def test_a_replay_returns_the_stored_response_and_writes_nothing_new(api_client):
    client = api_client("admin")
    before = timezone.now()

    first = _post(client, "/test/groups", {"name": "once"}, key="key-1")
    replay = _post(client, "/test/groups", {"name": "once"}, key="key-1")

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert replay["Location"] == first["Location"]
    assert _groups("once") == 1
    record = IdempotencyRecord.objects.get()
    assert record.caller == f"user:{client.user.pk}"
    assert (record.key, record.method, record.path) == ("key-1", "POST", "/test/groups")
    assert record.request_hash == hashlib.sha256(b'{"name":"once"}').hexdigest()
    assert record.status == IdempotencyRecord.Status.COMPLETED
    assert record.response_status == 201
    assert record.response_body == first.json()
    ttl = timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS)
    assert before + ttl <= record.expires_at <= timezone.now() + ttl


def test_the_same_json_with_other_key_order_and_spacing_is_a_replay(api_client):
    client = api_client("admin")

    _post(client, "/test/groups", '{"name": "same", "extra": 1}', key="k")
    replay = _post(client, "/test/groups", '{ "extra":1,"name":"same" }', key="k")

    assert replay["Idempotent-Replayed"] == "true"
    assert _groups("same") == 1


def test_the_same_key_with_another_body_is_409_and_runs_nothing(api_client):
    client = api_client("admin")
    _post(client, "/test/groups", {"name": "first"}, key="k")

    response = _post(client, "/test/groups", {"name": "second"}, key="k")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert _groups("second") == 0
    assert IdempotencyRecord.objects.count() == 1


def test_the_same_key_on_another_path_is_409(api_client):
    client = api_client("admin")
    _post(client, "/test/groups", {"name": "first"}, key="k")

    response = _post(client, "/test/groups-too", {"name": "first"}, key="k")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert _groups("first") == 1


def test_keys_belong_to_their_caller(api_client):
    one, two = api_client("admin"), api_client("admin")

    _post(one, "/test/groups", {"name": "mine"}, key="shared")
    other = _post(two, "/test/groups", {"name": "theirs"}, key="shared")

    assert other.status_code == 201
    assert not other.has_header("Idempotent-Replayed")
    assert IdempotencyRecord.objects.count() == 2


def test_a_client_error_is_stored_and_its_writes_undone(api_client):
    client = api_client("admin")

    first = _post(client, "/test/groups", {"name": "invalid-1"}, key="k")
    replay = _post(client, "/test/groups", {"name": "invalid-1"}, key="k")

    assert first.status_code == replay.status_code == 400
    assert replay.json() == first.json()
    assert first.json()["error"]["fields"] == {"name": ["Rejected after writing."]}
    assert replay["Idempotent-Replayed"] == "true"
    assert _groups("invalid-1") == 0
    assert IdempotencyRecord.objects.get().response_status == 400


def test_a_conflict_is_not_stored_so_a_retry_runs_again(api_client):
    client = api_client("admin")

    first = _post(client, "/test/groups", {"name": "conflict-1"}, key="k")
    retry = _post(client, "/test/groups", {"name": "conflict-1"}, key="k")

    assert first.status_code == retry.status_code == 409
    assert first.json()["error"]["code"] == "busy"
    assert not retry.has_header("Idempotent-Replayed")
    assert not IdempotencyRecord.objects.exists()
    assert _groups("conflict-1") == 0


def test_a_server_error_writes_nothing(api_client):
    client = api_client("admin")
    client.raise_request_exception = False

    response = _post(client, "/test/groups", {"name": "crash-1"}, key="k")

    assert response.status_code == 500
    assert not IdempotencyRecord.objects.exists()
    assert _groups("crash-1") == 0


def test_a_view_can_require_the_header(api_client):
    client = api_client("admin")

    missing = _post(client, "/test/required", {"name": "r"})
    given = _post(client, "/test/required", {"name": "r"}, key="k")

    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "idempotency_key_required"
    assert "Idempotency-Key" in missing.json()["error"]["fields"]
    assert given.status_code == 201
    assert _groups("r") == 1


@pytest.mark.parametrize("key", ["x" * 256, "bad\x01key"])
def test_an_unusable_key_is_400(api_client, key):
    response = _post(api_client("admin"), "/test/groups", {"name": "k"}, key=key)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert _groups("k") == 0


def test_an_expired_record_no_longer_replays(api_client):
    client = api_client("admin")
    _post(client, "/test/groups", {"name": "old"}, key="k")
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    again = _post(client, "/test/groups", {"name": "old"}, key="k")

    assert again.status_code == 201
    assert not again.has_header("Idempotent-Replayed")
    assert _groups("old") == 2
    assert IdempotencyRecord.objects.get().expires_at > timezone.now()


def test_works_on_viewset_actions(api_client):
    client = api_client("admin")

    first = _post(client, "/test/redeem", {"name": "act"}, key="k")
    replay = _post(client, "/test/redeem", {"name": "act"}, key="k")

    assert first.status_code == replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert _groups("act") == 1


def test_records_are_per_tenant(api_client, other_tenant):
    alpha = api_client("owner")
    with schema_context("beta"):  # the session must live in beta's schema
        beta = api_client(None, host=TENANT_HOSTS["beta"], user=UserFactory(role="owner"))
    body = {"name": "Sync", "scopes": ["loyalty:read"]}

    on_alpha = _post(alpha, "/api/developer/api-keys", body, key="tenant-key")
    on_beta = _post(beta, "/api/developer/api-keys", body, key="tenant-key")

    assert on_alpha.status_code == on_beta.status_code == 201
    assert not on_beta.has_header("Idempotent-Replayed")
    assert on_alpha.json()["id"] != on_beta.json()["id"]
    for schema in ("alpha", "beta"):
        with schema_context(schema):
            assert IdempotencyRecord.objects.filter(key="tenant-key").count() == 1


def _record(key: str, expires_in: timedelta) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(key=key, caller="anon", method="POST", path="/x", request_hash="0" * 64,
                                            status=IdempotencyRecord.Status.COMPLETED, response_status=200,
                                            expires_at=timezone.now() + expires_in)


def test_purge_deletes_only_expired_records_of_the_current_schema(tenant, other_tenant):
    _record("old", timedelta(seconds=-1))
    _record("fresh", timedelta(hours=1))
    with schema_context("beta"):
        _record("beta-old", timedelta(seconds=-1))

    assert idempotency_record_purge() == 1

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]
    with schema_context("beta"):
        assert IdempotencyRecord.objects.filter(key="beta-old").exists()


def test_purge_task_runs_in_the_schema_of_its_message(tenant, other_tenant):
    _record("alpha-old", timedelta(seconds=-1))
    with schema_context("beta"):
        _record("beta-old", timedelta(seconds=-1))
        _record("beta-fresh", timedelta(hours=1))

    result = idempotency_purge.apply(task_id="idem-purge-1", headers={"_schema_name": "beta"})

    assert result.get() == 1
    with schema_context("beta"):
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["beta-fresh"]
    connection.set_schema("alpha")
    assert IdempotencyRecord.objects.filter(key="alpha-old").exists()
