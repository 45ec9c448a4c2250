from __future__ import annotations

from django.conf import settings

from tests.factories.accounts import UserFactory


def test_a_signed_in_user_gets_their_preferred_language(tenant, web_client):
    client = web_client(user=UserFactory(preferred_language="pt-br"))

    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert response.wsgi_request.LANGUAGE_CODE == "pt-br"
    assert response["Content-Language"] == "pt-br"
    assert '<html lang="pt-br"' in response.content.decode()


def test_the_language_switcher_choice_wins_over_the_preference(tenant, web_client):
    client = web_client(user=UserFactory(preferred_language="pt-br"))

    switched = client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    response = client.get("/")

    assert switched.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert response.wsgi_request.LANGUAGE_CODE == "es"
    assert response["Content-Language"] == "es"


def test_anonymous_visitors_get_the_browser_language(tenant, web_client):
    response = web_client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es")

    assert response.wsgi_request.LANGUAGE_CODE == "es"
    assert response["Content-Language"] == "es"


def test_a_user_without_a_preference_keeps_the_browser_language(tenant, web_client):
    user = UserFactory()
    type(user).objects.filter(pk=user.pk).update(preferred_language="")
    user.refresh_from_db()
    client = web_client(user=user)

    response = client.get("/", HTTP_ACCEPT_LANGUAGE="es")

    assert response.wsgi_request.LANGUAGE_CODE == "es"
