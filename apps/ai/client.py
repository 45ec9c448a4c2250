"""Construction of the Anthropic client: the only place the SDK is configured.

``http_client_make`` returns the HTTP client the SDK sends requests through (None: the SDK's own). Tests replace
it with an ``httpx2.Client`` over an ``httpx2.MockTransport`` — the installed SDK (anthropic 2.x) accepts only
httpx2 clients — so the real SDK builds, sends and parses every request.
"""

from __future__ import annotations

import anthropic
import httpx2
from django.conf import settings


def http_client_make() -> httpx2.Client | None:
    return None


def anthropic_client(*, api_key: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key=api_key,
        timeout=settings.AI_TIMEOUT_SECONDS,
        max_retries=settings.AI_MAX_RETRIES,
        http_client=http_client_make(),
    )
