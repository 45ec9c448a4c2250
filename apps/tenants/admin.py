"""Platform admin (public schema): tenants and their domains. Tenant admins use the default site."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.sites import UnfoldAdminSite

from apps.accounts.admin import UserAdmin
from apps.accounts.models import User
from apps.tenants.models import Client, Domain


class PlatformAdminSite(UnfoldAdminSite):
    site_header = _("Incentiva platform")
    site_title = _("Incentiva platform")
    index_title = _("Tenants")


platform_admin_site = PlatformAdminSite(name="platform_admin")


class DomainInline(TabularInline):
    model = Domain
    extra = 0


class ClientAdmin(ModelAdmin):
    list_display = ("name", "schema_name", "plan", "status", "contact_email", "created_at")
    list_filter = ("plan", "status")
    search_fields = ("name", "schema_name", "contact_email")
    readonly_fields = ("schema_name", "created_at")
    inlines = [DomainInline]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        # Tenants are created by the provisioning service (schema clone + first admin), not a bare row.
        return False


platform_admin_site.register(Client, ClientAdmin)
platform_admin_site.register(User, UserAdmin)
