"""Platform admin (public schema, /platform-admin/ on the public host): tenants, their domains, platform
staff and the Celery beat schedule. A tenant's own back office is ``admin.site`` (see sites.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action
from unfold.enums import ActionVariant
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from apps.accounts.admin import UserAdmin
from apps.accounts.models import User
from apps.tenants.models import Client, Domain
from apps.tenants.sites import PlatformAdminSite
from apps.tenants.views import TenantProvisionView

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
    actions_list = ["provision"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A bare row is not a tenant: "Provision a tenant" creates the schema, the domain and the owner.
        return False

    def get_urls(self) -> list[URLPattern]:
        provision = self.admin_site.admin_view(TenantProvisionView.as_view(model_admin=self))
        return [path("provision/", provision, name="tenants_client_provision"), *super().get_urls()]

    def has_provision_permission(self, request: HttpRequest) -> bool:
        # A method, not the dotted "tenants.add_client": unfold's check would query the permission table
        # while system checks run, which fails before the first migration.
        return request.user.has_perm("tenants.add_client")

    @action(description=_("Provision a tenant"), icon="add_business", permissions=["provision"],
            variant=ActionVariant.PRIMARY)
    def provision(self, request: HttpRequest) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("platform_admin:tenants_client_provision"))


class TaskSelectWidget(UnfoldAdminSelectWidget, beat_admin.TaskSelectWidget):
    """Beat's list of registered task names, styled by Unfold (which only styles its own widgets)."""


class PeriodicTaskForm(beat_admin.PeriodicTaskForm):
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["task"].widget = UnfoldAdminTextInputWidget()
        self.fields["regtask"].widget = TaskSelectWidget()


class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin, ModelAdmin):
    form = PeriodicTaskForm


class ClockedScheduleAdmin(beat_admin.ClockedScheduleAdmin, ModelAdmin):
    pass


class CrontabScheduleAdmin(beat_admin.CrontabScheduleAdmin, ModelAdmin):
    pass


class IntervalScheduleAdmin(beat_admin.IntervalScheduleAdmin, ModelAdmin):
    pass


class SolarScheduleAdmin(beat_admin.SolarScheduleAdmin, ModelAdmin):
    pass


platform_admin_site.register(Client, ClientAdmin)
platform_admin_site.register(User, UserAdmin)
# Beat's schedule lives in the public schema (one beat for all tenants): platform staff manage it here.
platform_admin_site.register(PeriodicTask, PeriodicTaskAdmin)
platform_admin_site.register(ClockedSchedule, ClockedScheduleAdmin)
platform_admin_site.register(CrontabSchedule, CrontabScheduleAdmin)
platform_admin_site.register(IntervalSchedule, IntervalScheduleAdmin)
platform_admin_site.register(SolarSchedule, SolarScheduleAdmin)
