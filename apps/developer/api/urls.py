"""Mounted at ``api/developer/`` by incentiva/urls_tenants.py, without trailing slashes."""

from rest_framework.routers import SimpleRouter

from apps.developer.api.views import APIKeyViewSet, ApplicationViewSet

router = SimpleRouter(trailing_slash=False)
router.register("applications", ApplicationViewSet, basename="developer-application")
router.register("api-keys", APIKeyViewSet, basename="developer-api-key")

urlpatterns = router.urls
