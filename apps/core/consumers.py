"""The live channel (``ws/live/``): clients subscribe to topics and receive the events broadcast to them.

Protocol (JSON text frames)::

    → {"action": "subscribe", "topic": "user:<uuid>"}      ← {"type": "subscribed", "topic": ...}
    → {"action": "unsubscribe", "topic": ...}              ← {"type": "unsubscribed", "topic": ...}
                                                           ← {"type": "error", "code": ..., "message": ...}
                                                           ← {"type": "event", "topic", "event", "payload"}
"""

from __future__ import annotations

import json
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import translation
from django.utils.translation import gettext as _

from apps.core.channels_auth import (
    BEARER_SUBPROTOCOL,
    CLOSE_NOT_FOUND,
    CLOSE_UNAUTHENTICATED,
    in_tenant_schema,
    websocket_refuse,
)
from apps.core.live import live_topic_allowed, tenant_group

MAX_TOPICS_PER_SOCKET = 50


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """Thin: authorisation of a topic is ``apps.core.live.live_topic_allowed``, run in the tenant's schema."""

    async def connect(self) -> None:
        self.topics: set[str] = set()
        self.user = self.scope.get("user")
        self.tenant = self.scope.get("tenant")
        if self.user is None or self.tenant is None or not self.user.is_authenticated:
            # Only reachable when routed around the middleware; refuse rather than serve anonymously.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        subprotocols = self.scope.get("subprotocols") or []
        await self.accept(subprotocol=BEARER_SUBPROTOCOL if BEARER_SUBPROTOCOL in subprotocols else None)

    async def disconnect(self, code: int) -> None:
        for topic in getattr(self, "topics", set()):
            await self.channel_layer.group_discard(tenant_group(self.tenant.schema_name, topic), self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            content = json.loads(text_data) if text_data else None
        except ValueError:
            content = None
        if not isinstance(content, dict):
            await self._error("invalid_message", _("Send a JSON object with an action and a topic."))
            return
        await self.receive_json(content)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        action, topic = content.get("action"), content.get("topic")
        if action not in ("subscribe", "unsubscribe") or not isinstance(topic, str):
            await self._error("invalid_message", _("Send a JSON object with an action and a topic."))
            return
        if action == "unsubscribe":
            if topic in self.topics:
                self.topics.discard(topic)
                await self.channel_layer.group_discard(tenant_group(self.tenant.schema_name, topic),
                                                       self.channel_name)
            await self.send_json({"type": "unsubscribed", "topic": topic})
            return
        if topic not in self.topics:
            if len(self.topics) >= MAX_TOPICS_PER_SOCKET:
                await self._error("too_many_topics", _("Too many subscriptions on one connection."), topic=topic)
                return
            if not await in_tenant_schema(self.tenant, live_topic_allowed, user=self.user, topic=topic):
                await self._error("forbidden_topic", _("You may not subscribe to this topic."), topic=topic)
                return
            await self.channel_layer.group_add(tenant_group(self.tenant.schema_name, topic), self.channel_name)
            self.topics.add(topic)
        await self.send_json({"type": "subscribed", "topic": topic})

    async def live_event(self, message: dict[str, Any]) -> None:
        """A broadcast from ``apps.core.live.live_broadcast`` to one of this socket's groups."""
        if message.get("topic") in self.topics:
            await self.send_json({"type": "event", "topic": message["topic"], "event": message["event"],
                                  "payload": message.get("payload", {})})

    async def _error(self, code: str, message: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **extra})

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Error messages in the user's language, as on their pages.
        language = getattr(getattr(self, "user", None), "preferred_language", None)
        if language:
            with translation.override(language):
                await super().dispatch(message)
        else:
            await super().dispatch(message)


async def websocket_not_found(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Last websocket route: any other path is refused with 4404 instead of an exception."""
    await websocket_refuse(scope, receive, send, code=CLOSE_NOT_FOUND)
