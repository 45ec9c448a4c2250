"""Back office for the TLP integration: the connection (never the key), TLP ids, the outbox with its dead
letters (and a requeue action), reconciliation reports."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.decorators import display

from apps.core.admin import ReadOnlyAdmin
from apps.tlp.models import TLPConfiguration, TLPEntity, TLPOutbox, TLPReconciliationReport
from apps.tlp.services import tlp_outbox_requeue


@admin.register(TLPConfiguration)
class TLPConfigurationAdmin(ReadOnlyAdmin):
    """Changed only through POST /api/tlp/configure, which proves the key works before saving it."""

    list_display = ("endpoint_url", "api_key_hint", "is_active", "last_success_at", "last_latency_ms",
                    "last_error_at")
    exclude = ("api_key_encrypted",)


@admin.register(TLPEntity)
class TLPEntityAdmin(ReadOnlyAdmin):
    list_display = ("kind", "local_ref", "tlp_id", "updated_at")
    list_filter = ("kind",)
    search_fields = ("local_ref", "tlp_id")


@admin.register(TLPOutbox)
class TLPOutboxAdmin(ReadOnlyAdmin):
    list_display = ("id", "operation", "member_key", "display_status", "attempts", "next_attempt_at",
                    "created_at", "delivered_at", "short_error")
    list_filter = ("status", "operation", "source_type")
    search_fields = ("member_key", "idempotency_key", "source_id")
    ordering = ("-id",)
    actions = ["requeue"]

    @display(description=_("status"), label={
        TLPOutbox.Status.PENDING: "info", TLPOutbox.Status.IN_FLIGHT: "warning",
        TLPOutbox.Status.DELIVERED: "success", TLPOutbox.Status.DEAD: "danger",
    })
    def display_status(self, obj: TLPOutbox) -> str:
        return obj.status

    @display(description=_("last error"))
    def short_error(self, obj: TLPOutbox) -> str:
        return obj.last_error[:80]

    def has_requeue_permission(self, request: HttpRequest) -> bool:
        # Rows are never edited in the admin; sending dead letters again is the one thing people may do.
        return bool(request.user.has_perm("tlp.change_tlpoutbox"))

    @admin.action(description=_("Send the selected dead letters again"), permissions=["requeue"])
    def requeue(self, request: HttpRequest, queryset: QuerySet[TLPOutbox]) -> None:
        count = tlp_outbox_requeue(row_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, ngettext("%(count)d row queued again.", "%(count)d rows queued again.", count)
                          % {"count": count}, messages.SUCCESS if count else messages.WARNING)


@admin.register(TLPReconciliationReport)
class TLPReconciliationReportAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "status", "members_checked", "members_drifting", "total_drift", "outbox_pending")
    list_filter = ("status",)
