"""URLs served on the platform host (``localhost``): landing page, platform admin, provisioning."""

from django.urls import include, path

from apps.core import views as core_views
from apps.tenants.admin import platform_admin_site

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("platform-admin/", platform_admin_site.urls),
    path("", core_views.landing, name="landing"),
]
