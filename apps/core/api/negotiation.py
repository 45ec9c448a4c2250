"""DRF's content negotiation, with the answer for the usual Accept headers worked out once per renderer list.

Every API response is negotiated: DRF parses the Accept header into media types and matches them against each
renderer, about 5 % of a balance read's CPU. Nearly every API client sends no Accept header, ``*/*`` or
``application/json``, and for those (with no ``format`` override) the answer depends only on the view's
renderers: it is computed by DRF's own code the first time and reused. Any other header, or a format
override, is negotiated by DRF as usual. Only those three header values are ever remembered (DRF refuses to
keep a process-wide cache of client input, and so does this).
"""

from __future__ import annotations

from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation

# None: no Accept header at all (DRF reads it as */*).
_USUAL_ACCEPT = frozenset({None, "*/*", "application/json"})
# (Accept header, each renderer's class, media type and format) → (index of the chosen renderer, media type).
_answers: dict[tuple[Any, ...], tuple[int, str]] = {}


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):  # type: ignore[no-untyped-def]
        accept = request.META.get("HTTP_ACCEPT")
        if (format_suffix or accept not in _USUAL_ACCEPT
                or (request.META.get("QUERY_STRING") and request.query_params.get(self.settings.URL_FORMAT_OVERRIDE))):
            return super().select_renderer(request, renderers, format_suffix)
        key = (accept, *((type(renderer), renderer.media_type, renderer.format) for renderer in renderers))
        answer = _answers.get(key)
        if answer is None:
            renderer, media_type = super().select_renderer(request, renderers, format_suffix)
            answer = _answers[key] = (next(index for index, candidate in enumerate(renderers)
                                           if candidate is renderer), media_type)
        return renderers[answer[0]], answer[1]
