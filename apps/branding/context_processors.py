"""``tenant_branding`` for templates/base.html: the name, stylesheet and logo URLs of the current tenant's
branding; None on the public site. Evaluated lazily (one small query, only when a page uses it)."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django_tenants.utils import get_public_schema_name

from apps.branding.selectors import branding_get, branding_version


@dataclass(frozen=True)
class BrandingView:
    name: str
    css_url: str
    logo_url: str
    logo_width: int | None
    logo_height: int | None


def _view(request: HttpRequest) -> BrandingView:
    tenant = request.tenant  # type: ignore[attr-defined]
    branding = branding_get()
    if branding is None:  # the default look: app.css alone
        return BrandingView(name=tenant.name, css_url="", logo_url="", logo_width=None, logo_height=None)
    version = branding_version(branding=branding)
    return BrandingView(
        name=branding.display_name or tenant.name,
        css_url=f"{reverse('branding-css')}?v={version}",
        logo_url=f"{reverse('branding-logo')}?v={branding.logo_sha256[:16]}" if branding.logo_sha256 else "",
        logo_width=branding.logo_width, logo_height=branding.logo_height,
    )


def branding(request: HttpRequest) -> dict[str, object]:
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == get_public_schema_name():
        return {"tenant_branding": None}
    return {"tenant_branding": SimpleLazyObject(lambda: _view(request))}
