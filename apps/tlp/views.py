"""The offer graphics TLP shows (``/media/tlp/graphics/<schema>/<campaign>/<prize>-<digest>.png``), served on
the tenant's host to whoever has the address: TLP fetches its offers' ``imageUrl`` without a session, like a
browser showing a public picture. Only this tenant's graphics, only PNG and sanitised SVG; a file's name
carries the digest of its content, so it never changes and is cached for a year."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from apps.tlp.services.graphics import offer_graphic_find

YEAR = 365 * 24 * 3600


@require_safe
def offer_graphic(request: HttpRequest, path: str) -> FileResponse:
    found = offer_graphic_find(path=path)
    if found is None:
        raise Http404(_("No such offer graphic."))
    response = FileResponse(default_storage.open(found.name, "rb"), content_type=found.content_type)
    response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    if found.content_type == "image/svg+xml":  # sanitised already; and nothing in it may run or load anything
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response
