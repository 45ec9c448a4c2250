from __future__ import annotations

from apps.ai.models import AICall, AISettings
from apps.core.crypto import secret_decrypt
from tests.factories.accounts import UserFactory


def test_the_call_log_renders_and_cannot_be_edited(web_client):
    call = AICall.objects.create(purpose="rule_document", model="claude-sonnet-5-5", outcome="ok", input_hash="a" * 64)
    owner = UserFactory(role="owner", is_staff=True, is_superuser=True)
    client = web_client(user=owner)

    listing = client.get("/admin/ai/aicall/")
    add = client.get("/admin/ai/aicall/add/")
    change = client.post(f"/admin/ai/aicall/{call.pk}/change/", {"outcome": "error"})

    assert listing.status_code == 200
    assert "claude-sonnet-5-5" in listing.content.decode()
    assert add.status_code == 403
    assert change.status_code == 403
    call.refresh_from_db()
    assert call.outcome == "ok"


def test_a_key_set_in_the_back_office_is_stored_encrypted_and_never_shown(web_client):
    owner = UserFactory(role="owner", is_staff=True, is_superuser=True)
    client = web_client(user=owner)

    response = client.post("/admin/ai/aisettings/add/", {"api_key": "sk-ant-admin-secret-1", "model": ""})

    assert response.status_code == 302
    stored = AISettings.objects.get()
    assert "sk-ant-admin-secret-1" not in stored.api_key_encrypted
    assert secret_decrypt(stored.api_key_encrypted) == "sk-ant-admin-secret-1"
    page = client.get(f"/admin/ai/aisettings/{stored.pk}/change/")
    assert page.status_code == 200
    assert "sk-ant-admin-secret-1" not in page.content.decode()
    assert stored.api_key_encrypted not in page.content.decode()
