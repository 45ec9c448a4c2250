"""Websocket routes, served behind the tenant and auth middleware in incentiva.asgi."""

from django.urls import path, re_path

from apps.core.consumers import LiveConsumer, websocket_not_found

websocket_urlpatterns: list = [
    path("ws/live/", LiveConsumer.as_asgi()),
    re_path(r"", websocket_not_found),
]
