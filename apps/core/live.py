"""Live updates: tenant-scoped channel-layer groups, topic authorisation, and a synchronous broadcast that
services and tasks call (they never import ``channels`` themselves).

A topic is ``tenant`` (announcements to everyone signed in to the tenant), ``user:<uuid>`` (one user) or
``campaign:<id>`` (who may hear it is decided by the campaigns app, through
``live_topic_authoriser_register``). The group of a topic always includes the tenant's schema, so two
tenants using the same topic name never hear each other.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name

GROUP_PREFIX = "live"
# Channels refuses group names of 100 characters or more.
GROUP_NAME_MAX_LENGTH = 99
LIVE_EVENT_TYPE = "live.event"
TOPIC_MAX_LENGTH = 200

TOPIC_TENANT = "tenant"
_TOPIC_USER = re.compile(r"^user:(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
_TOPIC_CAMPAIGN = re.compile(r"^campaign:(?P<id>[A-Za-z0-9_-]{1,64})$")
_KIND_TOPICS = {"campaign": _TOPIC_CAMPAIGN}


def _escape(value: str) -> str:
    # Injective: ASCII letters, digits and hyphens stay, every other byte becomes _xx, so distinct
    # schema/topic pairs never share a group ("user:1" and "user_1" stay apart).
    return "".join(
        chr(byte) if chr(byte).isascii() and (chr(byte).isalnum() or chr(byte) == "-") else f"_{byte:02x}"
        for byte in value.encode()
    )


def tenant_group(schema_name: str, topic: str) -> str:
    """The channel-layer group of ``topic`` in ``schema_name``: ASCII letters, digits, ``-_.``, < 100 chars."""
    name = f"{GROUP_PREFIX}.{_escape(schema_name)}.{_escape(topic)}"
    if len(name) > GROUP_NAME_MAX_LENGTH:
        digest = hashlib.sha256(f"{schema_name}\x00{topic}".encode()).hexdigest()
        name = f"{GROUP_PREFIX}.sha256.{digest}"
    return name


def user_topic(user_id: Any) -> str:
    return f"user:{user_id}"


def campaign_topic(campaign_id: Any) -> str:
    return f"campaign:{campaign_id}"


# Who may hear a kind of object's topic (``campaign:<id>``), decided by the app that owns the objects: it
# registers a function here from its AppConfig.ready(), so apps.core never imports a domain app.
TopicAuthoriser = Callable[..., bool]
_AUTHORISERS: dict[str, TopicAuthoriser] = {}


def live_topic_authoriser_register(*, kind: str, authorise: TopicAuthoriser) -> None:
    """Install ``authorise(user=..., object_id=...) -> bool`` for the topics ``<kind>:<id>`` (``campaign``).
    Runs in the tenant's schema, in Channels' database thread. Registering a kind again replaces it."""
    if kind not in _KIND_TOPICS:
        raise ValueError(f"unknown live topic kind: {kind!r}")
    _AUTHORISERS[kind] = authorise


def live_topic_allowed(*, user: Any, topic: str) -> bool:
    """Whether ``user`` (of the current tenant) may subscribe to ``topic``: the tenant's announcements, their
    own user topic, and a campaign when the campaigns app's authoriser says so (none registered: refused).
    Anything else, including malformed topics, is refused."""
    if not getattr(user, "is_authenticated", False) or not isinstance(topic, str) or len(topic) > TOPIC_MAX_LENGTH:
        return False
    if topic == TOPIC_TENANT:
        return True
    if match := _TOPIC_USER.match(topic):
        return match["id"] == str(user.pk)
    for kind, pattern in _KIND_TOPICS.items():
        if match := pattern.match(topic):
            authorise = _AUTHORISERS.get(kind)
            return bool(authorise is not None and authorise(user=user, object_id=match["id"]))
    return False


def live_broadcast(*, topic: str, event: str, payload: Mapping[str, Any], schema_name: str | None = None) -> None:
    """Send ``event`` with ``payload`` to the subscribers of ``topic`` in ``schema_name`` (default: the
    connection's current tenant) once the current transaction commits, at once outside one.

    Synchronous: call it from services, tasks or an ``on_commit`` callback, never from a running event loop.
    Delivery is best effort: a channel-layer failure is logged, never raised into the caller's write.
    Refuses the public schema (nobody listens there)."""
    schema = schema_name or connection.schema_name
    if schema == get_public_schema_name():
        raise ValueError("live_broadcast needs a tenant schema, not the public one")
    message = {
        "type": LIVE_EVENT_TYPE,
        "topic": topic,
        "event": event,
        # The channel layer serialises with msgpack: UUIDs, Decimals and datetimes become JSON strings here.
        "payload": json.loads(json.dumps(dict(payload), cls=DjangoJSONEncoder)),
    }
    group = tenant_group(schema, topic)

    # A named function, not a functools.partial: when a robust callback fails, Django logs the callback's
    # __qualname__, which a partial lacks (the AttributeError would replace the best-effort failure).
    def send_after_commit() -> None:
        _group_send(group, message)

    transaction.on_commit(send_after_commit, robust=True)


def _group_send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, message)
