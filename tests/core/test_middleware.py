"""Request id echo, the health probes answered ahead of host, tenant and HTTPS handling, and the locale
middleware."""

from __future__ import annotations

import pytest
from django.conf.urls.i18n import i18n_patterns
from django.http import HttpResponse
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.test import Client as DjangoClient
from django.test import override_settings
from django.urls import path
from django.utils import translation

from apps.core.middleware import LocaleMiddleware
from tests.conftest import TENANT_HOSTS


def test_a_sane_incoming_request_id_is_echoed(db):
    response = DjangoClient(HTTP_HOST=TENANT_HOSTS["alpha"]).get("/accounts/login/",
                                                                 HTTP_X_REQUEST_ID="edge-0123456789")

    assert response["X-Request-ID"] == "edge-0123456789"


def test_each_request_gets_its_own_id_when_none_is_sent(db):
    client = DjangoClient(HTTP_HOST="localhost")

    first, second = client.get("/")["X-Request-ID"], client.get("/")["X-Request-ID"]

    assert first != second


def test_an_overlong_request_id_is_replaced(db):
    response = DjangoClient(HTTP_HOST="localhost").get("/", HTTP_X_REQUEST_ID="a" * 65)

    assert response["X-Request-ID"] != "a" * 65


def test_probes_answer_on_a_host_that_is_neither_allowed_nor_a_tenant(db):
    # A container runtime probes by IP; ALLOWED_HOSTS would refuse it and no tenant has that host.
    client = DjangoClient(HTTP_HOST="10.9.8.7:8000")

    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/").status_code == 404  # everything else still goes through the host checks


@override_settings(SECURE_SSL_REDIRECT=True)
def test_probes_are_not_redirected_to_https(db):
    client = DjangoClient(HTTP_HOST="localhost")

    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 301


def test_probes_carry_a_request_id_and_are_never_cached(db):
    response = DjangoClient(HTTP_HOST=TENANT_HOSTS["beta"]).get("/healthz")

    assert response["X-Request-ID"]
    assert "no-cache" in response["Cache-Control"]


def test_only_get_and_head_are_probes(db):
    # A POST to /healthz is an ordinary request, so the host checks refuse it.
    response = DjangoClient(HTTP_HOST="10.9.8.7").post("/healthz")

    assert response.status_code == 404


def test_a_request_id_with_a_trailing_newline_is_replaced_not_echoed(db):
    response = DjangoClient(HTTP_HOST="localhost").get("/", HTTP_X_REQUEST_ID="abcdefgh12\n")

    assert response.status_code == 200
    assert "\n" not in response["X-Request-ID"]
    assert response["X-Request-ID"] != "abcdefgh12"


# ------------------------------------------------------------------------------------ CSP built once per process

def _csp_pair(view, path: str = "/api/x"):  # type: ignore[no-untyped-def]
    """The headers of one response through django-csp's own middleware and through ours."""
    from csp.middleware import CSPMiddleware as BaseCSPMiddleware
    from django.test import RequestFactory

    from apps.core.middleware import CSPMiddleware

    answers = []
    for middleware_class in (BaseCSPMiddleware, CSPMiddleware):
        answers.append(middleware_class(view)(RequestFactory().get(path)))
    return answers


def _csp_headers(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {name: value for name, value in response.items() if name.startswith("Content-Security-Policy")}


def test_an_undecorated_response_gets_django_csp_s_own_policy_twice_over():
    from django.http import HttpResponse

    for _round in range(2):  # the second comes from the cache
        theirs, ours = _csp_pair(lambda request: HttpResponse("ok"))
        assert _csp_headers(ours) == _csp_headers(theirs)
        assert "script-src 'self'" in ours["Content-Security-Policy"]


def test_decorated_views_exemptions_and_nonces_take_django_csp_s_path():
    from csp.constants import NONCE
    from csp.decorators import csp_exempt, csp_update
    from django.http import HttpResponse

    @csp_update({"script-src": ["'unsafe-eval'"]})
    def updated(request):  # type: ignore[no-untyped-def]
        return HttpResponse("ok")

    @csp_exempt()
    def exempt(request):  # type: ignore[no-untyped-def]
        return HttpResponse("ok")

    def with_nonce(request):  # type: ignore[no-untyped-def]
        return HttpResponse(str(request.csp_nonce))

    theirs, ours = _csp_pair(updated)
    assert "'unsafe-eval'" in ours["Content-Security-Policy"]
    assert _csp_headers(ours) == _csp_headers(theirs)
    theirs, ours = _csp_pair(exempt)
    assert "Content-Security-Policy" not in ours and "Content-Security-Policy" not in theirs
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"script-src": ["'self'", NONCE]}}):
        _theirs, ours = _csp_pair(with_nonce)
    assert f"script-src 'self' 'nonce-{ours.content.decode()}'" in ours["Content-Security-Policy"]


def test_the_cached_policy_follows_the_settings_report_only_and_excluded_prefixes():
    from django.http import HttpResponse

    _csp_pair(lambda request: HttpResponse("ok"))  # the cache is filled with the settings' policy
    policy = {"DIRECTIVES": {"default-src": ["'none'"]}, "EXCLUDE_URL_PREFIXES": ["/excluded/"]}
    with override_settings(CONTENT_SECURITY_POLICY=policy, CONTENT_SECURITY_POLICY_REPORT_ONLY={
            "DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/csp-report/"}}):
        theirs, ours = _csp_pair(lambda request: HttpResponse("ok"))
        assert ours["Content-Security-Policy"] == "default-src 'none'"
        assert "report-uri /csp-report/" in ours["Content-Security-Policy-Report-Only"]
        assert _csp_headers(ours) == _csp_headers(theirs)
        theirs, ours = _csp_pair(lambda request: HttpResponse("ok"), path="/excluded/page")
        assert "Content-Security-Policy" not in ours
        assert _csp_headers(ours) == _csp_headers(theirs)
    _theirs, ours = _csp_pair(lambda request: HttpResponse("ok"))
    assert "script-src 'self'" in ours["Content-Security-Policy"]
    assert "Content-Security-Policy-Report-Only" not in ours


def test_an_unchanged_response_still_refuses_a_nonce_drawn_after_the_header():
    import pytest
    from csp.exceptions import CSPNonceError
    from django.http import HttpResponse
    from django.test import RequestFactory

    from apps.core.middleware import CSPMiddleware

    request = RequestFactory().get("/api/x")
    CSPMiddleware(lambda request: HttpResponse("ok"))(request)

    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)


# ------------------------------------------------------------------------------------------ LocaleMiddleware
# A urlconf with language-prefixed URLs (ours have none), to check that Django's own behaviour is kept there.
urlpatterns = i18n_patterns(path("page/", lambda request: HttpResponse("ok"), name="i18n-page"))
I18N_URLCONF = __name__


def _through(middleware_class, request, status: int = 200):  # type: ignore[no-untyped-def]
    """The response and the request's language after ``middleware_class`` handled a view answering ``status``."""
    translation.activate("en")
    seen = {}

    def view(request):  # type: ignore[no-untyped-def]
        seen["active"] = translation.get_language()
        return HttpResponse("ok", status=status)

    response = middleware_class(view)(request)
    headers = {name: response.get(name) for name in ("Vary", "Content-Language", "Location")}
    return response.status_code, headers, request.LANGUAGE_CODE if hasattr(request, "LANGUAGE_CODE") else None, \
        seen.get("active")


@pytest.mark.parametrize("urlconf", ["incentiva.urls_tenants", I18N_URLCONF])
@pytest.mark.parametrize(("path", "headers", "status"), [
    ("/api/loyalty-referral/points/C-1", {}, 200),
    ("/api/loyalty-referral/points/C-1", {"HTTP_ACCEPT_LANGUAGE": "pt-BR,pt;q=0.9"}, 200),
    ("/me/", {"HTTP_COOKIE": "django_language=es"}, 200),
    ("/es/page/", {}, 200),
    ("/page/", {"HTTP_ACCEPT_LANGUAGE": "es"}, 404),
    ("/xx/unknown", {"HTTP_ACCEPT_LANGUAGE": "de"}, 404),
])
def test_the_locale_middleware_answers_as_djangos_own(rf, urlconf, path, headers, status):
    def request():  # type: ignore[no-untyped-def]
        made = rf.get(path, **headers)
        made.urlconf = urlconf
        return made

    with override_settings(ROOT_URLCONF=urlconf):
        assert _through(LocaleMiddleware, request(), status) == _through(DjangoLocaleMiddleware, request(), status)


def test_the_language_comes_from_the_header_or_the_cookie(rf):
    request = rf.get("/api/loyalty-referral/points/C-1", HTTP_ACCEPT_LANGUAGE="pt-BR")
    request.urlconf = "incentiva.urls_tenants"
    assert _through(LocaleMiddleware, request)[1:] == (
        {"Vary": "Accept-Language", "Content-Language": "pt-br", "Location": None}, "pt-br", "pt-br")
    request = rf.get("/me/", HTTP_COOKIE="django_language=es", HTTP_ACCEPT_LANGUAGE="pt-BR")
    request.urlconf = "incentiva.urls_tenants"
    assert _through(LocaleMiddleware, request)[2:] == ("es", "es")
