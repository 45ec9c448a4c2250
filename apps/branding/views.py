"""Branding pages: the settings form (owners and admins of the tenant), and the stylesheet and logo every page
of the tenant links.

The stylesheet and the logo are public on the tenant's host: the sign-in page shows them before anyone is
signed in, and they hold nothing a visitor of that host does not see anyway. Each tenant's host serves only its
own (the row lives in the tenant's schema). Both carry an ETag; the URLs pages link carry a version
(``?v=``), which makes them cacheable for a year, and a request without the current version revalidates.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import get_conditional_response
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from apps.branding import selectors
from apps.branding.contrast import contrast_ratio
from apps.branding.forms import BrandingForm
from apps.branding.images import MAX_LOGO_BYTES
from apps.branding.services import branding_update
from apps.core.errors import ApplicationError

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def _cached(request: HttpRequest, response: HttpResponse, *, etag: str, version: str) -> HttpResponse:
    response["ETag"] = f'"{etag}"'
    response["Cache-Control"] = IMMUTABLE if request.GET.get("v") == version else REVALIDATE
    return get_conditional_response(request, etag=response["ETag"], response=response) or response


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def branding_settings(request: HttpRequest) -> HttpResponse:
    if not request.user.is_tenant_admin:  # type: ignore[union-attr]
        raise PermissionDenied
    branding = selectors.branding_get()
    status = 200
    if request.method == "POST":
        form = BrandingForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["logo"]
            # One byte more than allowed is enough to refuse a large file without reading all of it.
            logo = upload.read(MAX_LOGO_BYTES + 1) if upload else None
            try:
                branding_update(display_name=form.cleaned_data["display_name"],
                                primary_color=form.cleaned_data["primary_color"],
                                accent_color=form.cleaned_data["accent_color"],
                                text_on_primary=form.cleaned_data["text_on_primary"], logo=logo,
                                logo_remove=form.cleaned_data["logo_remove"], actor=request.user)
            except ApplicationError as exc:
                for field, errors in exc.fields.items():
                    form.add_error(field if field in form.fields else None, errors)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                messages.success(request, _("The branding was saved."))
                return redirect("branding-settings")
        status = 400
    else:
        theme = selectors.branding_theme(branding=branding)
        form = BrandingForm(initial={
            "display_name": branding.display_name if branding else "",
            "primary_color": theme.primary, "accent_color": theme.accent,
            "text_on_primary": branding.text_on_primary if branding else "auto",
        })
    theme = selectors.branding_theme(branding=branding)
    return render(request, "branding/settings.html", {
        "form": form, "branding": branding, "theme": theme,
        "contrast": contrast_ratio(theme.on_primary, theme.primary),
    }, status=status)


@require_safe
def branding_css(request: HttpRequest) -> HttpResponse:
    branding = selectors.branding_get()
    css = selectors.branding_stylesheet(branding=branding)
    version = selectors.branding_version(branding=branding) if branding is not None else ""
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    return _cached(request, response, etag=version or "default", version=version)


@require_safe
def branding_logo(request: HttpRequest) -> HttpResponse:
    logo = selectors.branding_logo()
    if logo is None:
        raise Http404(_("This workspace has no logo."))
    response = HttpResponse(logo.data, content_type=logo.content_type)
    response["Content-Disposition"] = "inline"
    return _cached(request, response, etag=logo.sha256, version=logo.sha256[:16])
