"""Mounted at ``api/`` by incentiva/urls_tenants.py: ``/api/auth/login`` etc., without a trailing slash."""

from rest_framework.routers import SimpleRouter

from apps.accounts.api.views import AuthViewSet

router = SimpleRouter(trailing_slash=False)
router.register("auth", AuthViewSet, basename="auth")

urlpatterns = router.urls
