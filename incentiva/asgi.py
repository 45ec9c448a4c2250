"""ASGI entry point: HTTP through Django (django-tenants' middleware picks the schema), websockets through
Channels with the same tenant resolution and the session or a tenant-bound JWT."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incentiva.settings.local")
# Set up Django before anything imports models (the routing imports consumers).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from apps.core.channels_auth import TenantWebsocketMiddleware, WebsocketAuthMiddleware  # noqa: E402
from incentiva.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            TenantWebsocketMiddleware(WebsocketAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)
