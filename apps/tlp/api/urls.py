"""Mounted at ``api/tlp/`` by incentiva/urls_tenants.py: ``/api/tlp/configure``, ``/api/tlp/health``,
``/api/tlp/generate-graphics``, without trailing slashes."""

from rest_framework.routers import SimpleRouter

from apps.tlp.api.views import TLPViewSet

router = SimpleRouter(trailing_slash=False)
router.register("", TLPViewSet, basename="tlp")

urlpatterns = router.urls
