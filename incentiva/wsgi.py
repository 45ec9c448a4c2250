"""The WSGI application (gunicorn's sync workers in the image).

Once the application and its URL confs (and with them every view module) are loaded, what exists is moved out
of the cyclic garbage collector's reach (``gc.freeze``): those objects live as long as the process, yet each
full collection walked all of them, a pause of about 170 ms of CPU in the middle of a request every few
thousand requests per worker. Objects made while serving requests are collected as before.
"""

import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incentiva.settings.local")
application = get_wsgi_application()
# Otherwise imported by the first request of each worker, after the freeze.
for _urlconf in {settings.ROOT_URLCONF, getattr(settings, "PUBLIC_SCHEMA_URLCONF", settings.ROOT_URLCONF)}:
    import_module(_urlconf)
gc.freeze()
