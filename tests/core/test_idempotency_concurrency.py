"""@idempotent under real concurrency: requests in threads, each on its own PostgreSQL connection and
transaction, against committed data in alpha's schema (the usual rolled-back test transaction would hide
exactly what is tested here). The fixture removes everything the test committed.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import Group
from django.db import connections
from django.urls import include, path
from django_tenants.utils import schema_context
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.core.api.idempotency import idempotent
from apps.core.models import IdempotencyRecord
from tests.conftest import TENANT_HOSTS
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.urls(__name__)

# The view parks requests whose body says so until the test releases them.
_in_view = threading.Event()
_release = threading.Event()


class SlowGroupView(APIView):
    permission_classes = [IsAuthenticated]

    @idempotent
    def post(self, request):  # type: ignore[no-untyped-def]
        group = Group.objects.create(name=f"{request.data['name']}/{uuid.uuid4().hex}")
        if request.data.get("park"):
            _in_view.set()
            _release.wait(timeout=20)
        if request.data.get("crash"):
            raise RuntimeError("after writing")
        return Response({"id": group.pk}, status=201)


urlpatterns = [path("test/slow-groups", SlowGroupView.as_view()), path("", include("incentiva.urls_tenants"))]


@pytest.fixture
def committed_user(django_db_setup, django_db_blocker) -> Iterator[User]:  # type: ignore[no-untyped-def]
    """A user committed in alpha's schema; afterwards deletes it and the rows the requests committed."""
    with django_db_blocker.unblock():
        with schema_context("alpha"):
            user = UserFactory(role="admin", email=f"concurrency-{uuid.uuid4().hex[:8]}@example.test")
        _in_view.clear()
        _release.clear()
        try:
            yield user
        finally:
            _release.set()
            with schema_context("alpha"):
                IdempotencyRecord.objects.filter(caller=f"user:{user.pk}").delete()
                Group.objects.filter(name__startswith=f"{user.pk}-").delete()
                user.delete()
            connections.close_all()


def _post(user: User, body: dict, key: str):  # type: ignore[no-untyped-def]
    """One request from a worker thread, on that thread's own connection (closed afterwards)."""
    try:
        client = APIClient(HTTP_HOST=TENANT_HOSTS["alpha"])
        client.force_authenticate(user)
        return client.post("/test/slow-groups", json.dumps(body), content_type="application/json",
                           HTTP_IDEMPOTENCY_KEY=key)
    finally:
        connections.close_all()


def _committed(user: User, key: str) -> tuple[int, list[IdempotencyRecord]]:
    with schema_context("alpha"):
        groups = Group.objects.filter(name__startswith=f"{user.pk}-").count()
        records = list(IdempotencyRecord.objects.filter(caller=f"user:{user.pk}", key=key))
    return groups, records


def test_a_retry_while_the_first_request_runs_gets_409_in_progress(committed_user):
    body = {"name": f"{committed_user.pk}-slow", "park": True}
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(_post, committed_user, body, "race")
        assert _in_view.wait(timeout=15), "the first request never reached the view"

        retry = pool.submit(_post, committed_user, body, "race").result(timeout=15)
        assert first.running()  # the retry was answered while the first request still held the key

        _release.set()
        original = first.result(timeout=15)

    assert retry.status_code == 409
    assert retry.json()["error"]["code"] == "idempotency_in_progress"
    assert original.status_code == 201
    later = _post(committed_user, body, "race")
    assert later.status_code == 201
    assert later["Idempotent-Replayed"] == "true"
    assert later.json() == original.json()
    groups, records = _committed(committed_user, "race")
    assert groups == 1
    assert [record.status for record in records] == [IdempotencyRecord.Status.COMPLETED]


def test_simultaneous_first_requests_run_the_write_once(committed_user):
    body = {"name": f"{committed_user.pk}-burst"}
    barrier = threading.Barrier(6)

    def fire():  # type: ignore[no-untyped-def]
        barrier.wait(timeout=15)
        return _post(committed_user, body, "burst")

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = [future.result(timeout=30) for future in [pool.submit(fire) for _ in range(6)]]

    originals = [r for r in responses if r.status_code == 201 and not r.has_header("Idempotent-Replayed")]
    replays = [r for r in responses if r.status_code == 201 and r.has_header("Idempotent-Replayed")]
    in_progress = [r for r in responses if r.status_code == 409]
    assert len(originals) == 1
    assert len(originals) + len(replays) + len(in_progress) == 6
    assert all(r.json()["error"]["code"] == "idempotency_in_progress" for r in in_progress)
    assert all(r.json() == originals[0].json() for r in replays)
    groups, records = _committed(committed_user, "burst")
    assert groups == 1
    assert len(records) == 1


def test_a_failing_request_commits_neither_its_writes_nor_a_record(committed_user):
    body = {"name": f"{committed_user.pk}-crash", "crash": True}

    def crash():  # type: ignore[no-untyped-def]
        try:
            client = APIClient(HTTP_HOST=TENANT_HOSTS["alpha"], raise_request_exception=False)
            client.force_authenticate(committed_user)
            return client.post("/test/slow-groups", json.dumps(body), content_type="application/json",
                               HTTP_IDEMPOTENCY_KEY="crash")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        response = pool.submit(crash).result(timeout=15)

    assert response.status_code == 500
    assert _committed(committed_user, "crash") == (0, [])
