"""The tenant's TLP connection: configure (after proving it works), build clients, check health."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.crypto import DecryptionError, secret_decrypt, secret_encrypt
from apps.core.errors import ApplicationError, UnprocessableError
from apps.tlp.client import TLPAuthError, TLPClient, TLPError, TLPNotFound, TLPUnavailable
from apps.tlp.models import TLPConfiguration
from apps.tlp.selectors import OutboxStats, tlp_configuration_active, tlp_configuration_get, tlp_outbox_stats

logger = logging.getLogger(__name__)

HEALTH_CONNECT_TIMEOUT = 2.0
HEALTH_READ_TIMEOUT = 3.0
MAX_ERROR_LENGTH = 500


def tlp_client_build(*, configuration: TLPConfiguration, connect_timeout: float | None = None,
                     read_timeout: float | None = None, **options: Any) -> TLPClient:
    """A client for this configuration. Refuses (422) a configuration whose key can no longer be decrypted."""
    try:
        api_key = secret_decrypt(configuration.api_key_encrypted)
    except DecryptionError as exc:
        raise UnprocessableError(_("The stored TLP API key cannot be decrypted; configure TLP again."),
                                 code="tlp_key_unreadable") from exc
    return TLPClient(
        endpoint_url=configuration.endpoint_url, api_key=api_key,
        connect_timeout=connect_timeout or configuration.connect_timeout,
        read_timeout=read_timeout or configuration.read_timeout,
        cache_namespace=connection.schema_name, **options,
    )


def tlp_client_active(**options: Any) -> TLPClient:
    """A client for the tenant's active configuration; refuses (422) when TLP is not configured or is off."""
    configuration = tlp_configuration_active()
    if configuration is None:
        raise UnprocessableError(_("TLP is not configured for this workspace."), code="tlp_not_configured")
    return tlp_client_build(configuration=configuration, **options)


def _error_text(exc: BaseException) -> str:
    # TLPError messages never quote the key or the URL's credentials (see client._transport_message).
    return str(exc)[:MAX_ERROR_LENGTH]


def tlp_configuration_record(*, success: bool, latency_ms: int | None = None, error: BaseException | None = None,
                             now: datetime | None = None) -> None:
    """Remember the outcome of the last exchange with TLP (shown by the health endpoint and the admin)."""
    now = now or timezone.now()
    if success:
        TLPConfiguration.objects.update(last_success_at=now, last_latency_ms=latency_ms, updated_at=now)
    else:
        TLPConfiguration.objects.update(last_error=_error_text(error) if error else "", last_error_at=now,
                                        updated_at=now)


def _validate_endpoint(endpoint_url: str) -> str:
    endpoint_url = (endpoint_url or "").strip().rstrip("/")
    parts = urlsplit(endpoint_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApplicationError(_("The TLP endpoint URL is not valid."), code="tlp_endpoint_invalid",
                               fields={"endpoint_url": [_("Enter an http:// or https:// URL.")]})
    if parts.username or parts.password:
        raise ApplicationError(_("The TLP endpoint URL is not valid."), code="tlp_endpoint_invalid",
                               fields={"endpoint_url": [_("Put the API key in its own field, not in the URL.")]})
    return endpoint_url


def tlp_connection_check(*, endpoint_url: str, api_key: str, connect_timeout: float = HEALTH_CONNECT_TIMEOUT,
                         read_timeout: float = HEALTH_READ_TIMEOUT) -> int:
    """Prove that ``endpoint_url`` is a TLP API that accepts ``api_key``; returns the latency in ms.
    Refuses (400) with ``fields.api_key`` for a rejected key and ``fields.endpoint_url`` for anything else."""
    endpoint_url = _validate_endpoint(endpoint_url)
    if not (api_key or "").strip():
        raise ApplicationError(_("The TLP API key is required."), code="invalid",
                               fields={"api_key": [_("This field is required.")]})
    client = TLPClient(endpoint_url=endpoint_url, api_key=api_key.strip(), connect_timeout=connect_timeout,
                       read_timeout=read_timeout, max_retries=0, cache_ttl=0)
    try:
        return client.ping()
    except TLPAuthError as exc:
        raise ApplicationError(_("TLP rejected the API key."), code="tlp_auth_failed",
                               fields={"api_key": [_("TLP did not accept this API key.")]}) from exc
    except TLPUnavailable as exc:
        raise ApplicationError(_("TLP could not be reached at this URL."), code="tlp_unreachable",
                               fields={"endpoint_url": [_("No answer from a TLP API at this address: %(reason)s")
                                                        % {"reason": exc.message}]}) from exc
    except (TLPNotFound, TLPError, KeyError, ValueError) as exc:
        raise ApplicationError(_("This URL does not look like a TLP API."), code="tlp_endpoint_invalid",
                               fields={"endpoint_url": [_("The address answered, but not as a TLP API does.")]}) \
            from exc
    finally:
        client.close()


def tlp_configure(*, endpoint_url: str, api_key: str, is_active: bool = True, connect_timeout: float | None = None,
                  read_timeout: float | None = None) -> TLPConfiguration:
    """Save the tenant's TLP connection, but only after a live check that the URL and key work: nothing is
    saved when the check fails (400 naming ``api_key`` or ``endpoint_url``)."""
    for name, value in (("connect_timeout", connect_timeout), ("read_timeout", read_timeout)):
        if value is not None and not 0.1 <= value <= 60:
            raise ApplicationError(_("Timeouts must be between 0.1 and 60 seconds."), code="invalid",
                                   fields={name: [_("Must be between 0.1 and 60.")]})
    endpoint_url = _validate_endpoint(endpoint_url)
    api_key = (api_key or "").strip()
    latency_ms = tlp_connection_check(endpoint_url=endpoint_url, api_key=api_key)
    now = timezone.now()
    with transaction.atomic():
        configuration = TLPConfiguration.objects.select_for_update().order_by("created_at").first() \
            or TLPConfiguration()
        configuration.endpoint_url = endpoint_url
        configuration.api_key_encrypted = secret_encrypt(api_key)
        configuration.api_key_hint = api_key[-4:] if len(api_key) >= 12 else ""
        configuration.is_active = is_active
        if connect_timeout is not None:
            configuration.connect_timeout = connect_timeout
        if read_timeout is not None:
            configuration.read_timeout = read_timeout
        configuration.last_success_at = now
        configuration.last_latency_ms = latency_ms
        configuration.last_error = ""
        configuration.last_error_at = None
        configuration.save()
    logger.info("TLP configured for %s at %s", connection.schema_name, urlsplit(endpoint_url).hostname)
    return configuration


@dataclass(frozen=True)
class TLPHealth:
    configured: bool
    active: bool
    endpoint_url: str
    reachable: bool
    latency_ms: int | None
    error: str
    last_success_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    outbox: OutboxStats
    checked_at: datetime


def tlp_health_check(*, probe: bool = True) -> TLPHealth:
    """Where the TLP connection stands: a live probe (short timeouts, no retries) and the outbox's backlog."""
    now = timezone.now()
    configuration = tlp_configuration_get()
    stats = tlp_outbox_stats()
    reachable, latency_ms, error = False, None, ""
    if configuration is not None and probe:
        try:
            client = tlp_client_build(configuration=configuration, connect_timeout=HEALTH_CONNECT_TIMEOUT,
                                      read_timeout=HEALTH_READ_TIMEOUT, max_retries=0)
            try:
                latency_ms = client.ping()
            finally:
                client.close()
            reachable = True
            tlp_configuration_record(success=True, latency_ms=latency_ms, now=now)
        except (TLPError, UnprocessableError) as exc:
            error = _error_text(exc)
            tlp_configuration_record(success=False, error=exc, now=now)
        configuration.refresh_from_db()
    return TLPHealth(
        configured=configuration is not None,
        active=bool(configuration and configuration.is_active),
        endpoint_url=configuration.endpoint_url if configuration else "",
        reachable=reachable, latency_ms=latency_ms, error=error,
        last_success_at=configuration.last_success_at if configuration else None,
        last_error=configuration.last_error if configuration else "",
        last_error_at=configuration.last_error_at if configuration else None,
        outbox=stats, checked_at=now,
    )
