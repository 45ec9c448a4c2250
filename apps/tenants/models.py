"""Tenants (one PostgreSQL schema each) and the host names that route to them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class Client(TenantMixin):
    class Plan(models.TextChoices):
        FREE = "free", _("Free")
        STARTER = "starter", _("Starter")
        GROWTH = "growth", _("Growth")
        ENTERPRISE = "enterprise", _("Enterprise")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        TEMPLATE = "template", _("Template")

    name = models.CharField(_("name"), max_length=200)
    plan = models.CharField(_("plan"), max_length=20, choices=Plan.choices, default=Plan.FREE)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Schemas are created by the provisioning service (clone of the template), not on save().
    auto_create_schema = False
    auto_drop_schema = True

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ("name",)

    @property
    def slug(self) -> str:
        return self.schema_name

    def __str__(self) -> str:
        return f"{self.name} ({self.schema_name})"


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")
        ordering = ("domain",)
