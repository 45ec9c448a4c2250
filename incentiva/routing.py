"""Websocket routes. The live-channel work wraps these in the tenant/auth middleware."""

websocket_urlpatterns: list = []
