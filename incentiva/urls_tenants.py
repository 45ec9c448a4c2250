"""URLs served on a tenant's host (``<slug>.localhost``)."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView
from oauth2_provider.urls import base_urlpatterns as oauth2_base_urlpatterns

from apps.core import views as core_views
from apps.tlp import views as tlp_views

urlpatterns = [
    # The partner API's own prefixes first: Django tries the patterns in order and, for each one that does not
    # match, records it for the debug 404 page, so the ledger paths (the busiest) used to pay about 30 us per
    # request for the three ``api/`` includes above them. No other pattern starts with these prefixes, so the
    # order changes no resolution (tests/incentiva/test_urls_tenants.py).
    path("api/loyalty-referral/", include("apps.loyalty.api.urls")),
    path("api/loyalty-referral/", include("apps.referrals.api.urls")),
    path("api/developer/", include("apps.developer.api.urls")),
    path("api/tlp/", include("apps.tlp.api.urls")),
    # Offer graphics TLP links to (public, immutable): the path media storage gives them (apps/tlp/views.py).
    path("media/tlp/graphics/<path:path>", tlp_views.offer_graphic, name="tlp-offer-graphic"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # Only the protocol endpoints (authorize, token, revoke, introspect): partner applications are
    # registered by owners/admins through /api/developer/applications, not DOT's self-service pages.
    path("o/", include((oauth2_base_urlpatterns, "oauth2_provider"), namespace="oauth2_provider")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Both pages run under the strict CSP: see apps/core/views.py for the one thing ReDoc adds.
    path("api/docs/", core_views.ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", core_views.ApiRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/", include("apps.accounts.api.urls")),
    path("api/", include("apps.rules.api.urls")),
    path("api/", include("apps.campaigns.api.urls")),
    # Public referral links members share: no sign-in (see apps/referrals/views.py).
    path("r/", include("apps.referrals.urls")),
    # The signed-in member's loyalty & referral dashboard (apps/loyalty/views.py).
    path("me/", include("apps.loyalty.urls")),
    # The admin campaign console: list, execution monitoring and the creation wizard (apps/campaigns/views/).
    path("console/campaigns/", include("apps.campaigns.urls_console")),
    # The signed-in participant's sales campaigns: my campaigns and each one's dashboard (apps/campaigns/views/).
    path("campaigns/", include("apps.campaigns.urls_participant")),
    # The tenant's branding: its settings page (/console/branding/), /branding.css and the logo (apps/branding).
    path("", include("apps.branding.urls")),
    path("", core_views.tenant_home, name="home"),
]

handler404 = "apps.core.api.handlers.page_not_found"
handler500 = "apps.core.api.handlers.server_error"
