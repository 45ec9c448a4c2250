"""apps/core/api/negotiation.py: DRF's content negotiation, its answer for the usual Accept headers reused."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer, TemplateHTMLRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.core.api import negotiation
from apps.core.api.negotiation import ContentNegotiation

RENDERER_LISTS = [
    [JSONRenderer, BrowsableAPIRenderer],
    [BrowsableAPIRenderer, JSONRenderer],
    [TemplateHTMLRenderer],
]
ACCEPTS = [None, "*/*", "application/json", "text/html", "application/json; indent=4", "text/*",
           "application/xml", "text/html;q=0.5, application/json;q=0.9"]


def _request(accept: str | None, query: str = "") -> Request:
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    return Request(APIRequestFactory().get(f"/api/anything{query}", **headers))


def _answer(negotiator, accept, renderer_classes, query="", suffix=None):  # type: ignore[no-untyped-def]
    renderers = [renderer() for renderer in renderer_classes]
    try:
        renderer, media_type = negotiator.select_renderer(_request(accept, query), renderers, suffix)
    except NotAcceptable:
        return "406"
    return renderers.index(renderer), media_type


@pytest.fixture(autouse=True)
def _empty_answers(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(negotiation, "_answers", {})


@pytest.mark.parametrize("renderer_classes", RENDERER_LISTS)
@pytest.mark.parametrize("accept", ACCEPTS)
def test_every_answer_is_drfs_own_the_first_time_and_after(renderer_classes, accept):
    expected = _answer(DefaultContentNegotiation(), accept, renderer_classes)
    assert _answer(ContentNegotiation(), accept, renderer_classes) == expected
    assert _answer(ContentNegotiation(), accept, renderer_classes) == expected  # from the remembered answer


def test_the_usual_headers_are_answered_from_memory_per_renderer_list():
    assert _answer(ContentNegotiation(), None, RENDERER_LISTS[0]) == (0, "application/json")
    assert _answer(ContentNegotiation(), None, RENDERER_LISTS[1]) == (0, "text/html")
    assert len(negotiation._answers) == 2


def test_other_headers_and_format_overrides_are_never_remembered():
    _answer(ContentNegotiation(), "text/html", RENDERER_LISTS[0])
    _answer(ContentNegotiation(), "application/json; indent=4", RENDERER_LISTS[0])
    _answer(ContentNegotiation(), None, RENDERER_LISTS[0], query="?format=api")
    _answer(ContentNegotiation(), None, RENDERER_LISTS[0], suffix="json")
    assert negotiation._answers == {}


@pytest.mark.parametrize(("query", "suffix"), [("?format=api", None), ("", "api"), ("?format=json", None)])
def test_a_format_override_wins_over_a_remembered_answer(query, suffix):
    _answer(ContentNegotiation(), None, RENDERER_LISTS[0])  # remembers JSON for "no header"
    expected = _answer(DefaultContentNegotiation(), None, RENDERER_LISTS[0], query, suffix)
    assert _answer(ContentNegotiation(), None, RENDERER_LISTS[0], query, suffix) == expected
    assert expected[0] == (1 if "api" in (query + (suffix or "")) else 0)


def test_the_api_answers_json_without_an_accept_header_and_html_to_a_browser(api_client):
    client = api_client("admin")
    plain = client.get("/api/loyalty-referral/programs")
    browser = client.get("/api/loyalty-referral/programs", HTTP_ACCEPT="text/html")
    assert plain.status_code == browser.status_code == 200
    assert plain["Content-Type"] == "application/json"
    assert browser["Content-Type"].startswith("text/html")
