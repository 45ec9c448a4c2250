"""The two back offices, both themed with django-unfold.

* ``TenantAdminSite`` is Django's default ``admin.site`` (installed by ``TenantAdminConfig``), served at
  ``/admin/`` on tenant hosts. It only accepts models of tenant apps: a shared-only app that registers
  itself on the default site (django-celery-beat's schedules, our tenants) would otherwise be reachable,
  through the ``public`` schema on the search path, by every tenant's owner.
* ``PlatformAdminSite`` is served at ``/platform-admin/`` on the public host, to platform staff (users of
  the ``public`` schema). It refuses tenant-only models at registration: their tables do not exist there.

Unfold's admin runs Alpine.js, which evaluates its ``x-data`` expressions with ``new Function``: both sites
add ``'unsafe-eval'`` to ``script-src`` on their own pages only; the rest of the product keeps the strict
global policy. This module is imported while apps load: it must not import models at module level.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from csp.decorators import csp_update
from django.apps import AppConfig
from django.conf import settings
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model
from django.db.models.base import ModelBase
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.sites import UnfoldAdminSite

admin_csp = csp_update({"script-src": ["'unsafe-eval'"]})


def _app_listed(app_config: AppConfig, apps_list: Iterable[str]) -> bool:
    # Same rule as django-tenants' router: an app is listed by its name or by its AppConfig's path.
    full_name = f"{type(app_config).__module__}.{type(app_config).__name__}"
    return app_config.name in apps_list or full_name in apps_list


def is_tenant_model(model: type[Model]) -> bool:
    return _app_listed(model._meta.app_config, settings.TENANT_APPS)


def is_shared_model(model: type[Model]) -> bool:
    return _app_listed(model._meta.app_config, settings.SHARED_APPS)


def _models(model_or_iterable: type[Model] | Iterable[type[Model]]) -> list[type[Model]]:
    if isinstance(model_or_iterable, ModelBase):
        return [model_or_iterable]  # type: ignore[list-item]
    return list(model_or_iterable)  # type: ignore[arg-type]


def tenant_site_header(request: HttpRequest) -> str:
    """The tenant admin's header names the workspace, so an owner of several never edits the wrong one."""
    tenant = getattr(request, "tenant", None)
    return tenant.name if tenant is not None else "Incentiva"


def platform_environment(request: HttpRequest) -> list[str]:
    """A badge on every platform-admin page: changes here reach every tenant."""
    return [gettext("Platform"), "warning"]


class _AdminCSPMixin:
    """Unfold's Alpine.js needs ``'unsafe-eval'``: granted on this site's pages, login included."""

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Callable[..., Any]:
        return admin_csp(super().admin_view(view, cacheable))  # type: ignore[misc]

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponseBase:
        login: Callable[..., HttpResponseBase] = admin_csp(super().login)  # type: ignore[misc]
        return login(request, extra_context)


class TenantAdminSite(_AdminCSPMixin, UnfoldAdminSite):
    """A tenant's back office: only models that live in the tenant's schema."""

    settings_name = "UNFOLD"

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        # Third-party shared apps register themselves here at import time: skip them, quietly.
        models = [model for model in _models(model_or_iterable) if is_tenant_model(model)]
        if models:
            super().register(models, admin_class, **options)

    def unregister(self, model_or_iterable: Any) -> None:
        super().unregister([model for model in _models(model_or_iterable) if is_tenant_model(model)])


class PlatformAdminSite(_AdminCSPMixin, UnfoldAdminSite):
    """The platform's back office (public schema): tenants, platform staff, scheduled jobs."""

    settings_name = "UNFOLD_PLATFORM"
    site_header = _("Incentiva platform")
    site_title = _("Incentiva platform")
    index_title = _("Tenants")

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        for model in _models(model_or_iterable):
            if not is_shared_model(model):
                raise ImproperlyConfigured(
                    f"{model._meta.label} lives in tenant schemas only; the platform admin cannot show it."
                )
        super().register(model_or_iterable, admin_class, **options)


class TenantAdminConfig(AdminConfig):
    """``django.contrib.admin`` with ``TenantAdminSite`` as ``admin.site`` (Django's documented way to
    replace the default site; unfold is installed as ``unfold.apps.BasicAppConfig`` so it does not)."""

    default_site = "apps.tenants.sites.TenantAdminSite"
