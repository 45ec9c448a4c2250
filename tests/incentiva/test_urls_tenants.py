"""The tenant urlconf: the order of its patterns (the ledger's prefixes first, for speed) shadows no route."""

from __future__ import annotations

import uuid

import pytest
from django.urls import get_resolver

URLCONF = "incentiva.urls_tenants"
# A value each converter accepts; a regex group (the routers' ``[^/.]+``) gets the plain one.
_SAMPLES = {"UUIDConverter": str(uuid.UUID(int=7)), "IntConverter": "7"}


def _sample_paths() -> list[tuple[str, str]]:
    """(name, path) for every named route of the urlconf outside namespaces, its arguments filled in."""
    resolver = get_resolver(URLCONF)
    routes = []
    for name in [key for key in resolver.reverse_dict if isinstance(key, str)]:
        for bits, _pattern, _defaults, converters in resolver.reverse_dict.getlist(name):
            template, params = bits[0]
            values = {param: _SAMPLES.get(type(converters.get(param)).__name__, "sample1") for param in params}
            routes.append((name, "/" + template % values))
    return routes


def test_every_named_route_resolves_to_itself():
    resolver = get_resolver(URLCONF)
    routes = _sample_paths()
    assert len(routes) > 60  # the whole API and the pages, not an empty walk
    shadowed = [(name, path, resolver.resolve(path).url_name) for name, path in routes
                if resolver.resolve(path).url_name != name]
    assert shadowed == []


@pytest.mark.parametrize(("path", "name"), [
    ("/api/loyalty-referral/points/C-1", "loyalty-points-balance"),
    ("/api/loyalty-referral/points/award", "loyalty-points-award"),
    ("/api/loyalty-referral/referrals", "referral-campaign-list"),
    ("/api/auth/login", "auth-login"),
    ("/api/campaigns", "campaign-list"),
    ("/api/rules/validate", "rules-validate"),
    ("/api/schema/", "api-schema"),
    ("/healthz", "healthz"),
    ("/", "home"),
])
def test_api_and_pages_resolve_after_the_reordering(path, name):
    assert get_resolver(URLCONF).resolve(path).url_name == name
