"""TLP integration writes. Import from here: ``from apps.tlp import services`` or
``from apps.tlp.services import tlp_outbox_enqueue``.

* configuration.py: ``tlp_configure`` (checks the connection before saving), clients, ``tlp_health_check``.
* outbox.py: ``tlp_outbox_enqueue`` / ``tlp_outbox_enqueue_ledger_entry`` (inside the caller's transaction),
  ``tlp_outbox_deliver`` (exactly-once delivery), dead letters and requeue.
* reconciliation.py: ``tlp_reconcile`` (our balances against TLP's).
* provisioning.py: ``tlp_campaign_provision``, ``tlp_member_ensure``.
* graphics.py: offer graphics in media storage.
"""

from apps.tlp.services.configuration import (
    TLPHealth,
    tlp_client_active,
    tlp_client_build,
    tlp_configuration_record,
    tlp_configure,
    tlp_connection_check,
    tlp_health_check,
)
from apps.tlp.services.graphics import (
    OfferGraphic,
    offer_svg_store,
    tlp_branding_for,
    tlp_offer_graphics_generate,
)
from apps.tlp.services.outbox import (
    DeliveryReport,
    tlp_outbox_deliver,
    tlp_outbox_drain,
    tlp_outbox_enqueue,
    tlp_outbox_enqueue_ledger_entries,
    tlp_outbox_enqueue_ledger_entry,
    tlp_outbox_requeue,
)
from apps.tlp.services.provisioning import (
    ProvisionResult,
    tlp_campaign_provision,
    tlp_member_create_now,
    tlp_member_ensure,
)
from apps.tlp.services.reconciliation import tlp_reconcile

__all__ = [
    "DeliveryReport",
    "OfferGraphic",
    "ProvisionResult",
    "TLPHealth",
    "offer_svg_store",
    "tlp_branding_for",
    "tlp_campaign_provision",
    "tlp_client_active",
    "tlp_client_build",
    "tlp_configuration_record",
    "tlp_configure",
    "tlp_connection_check",
    "tlp_health_check",
    "tlp_member_create_now",
    "tlp_member_ensure",
    "tlp_offer_graphics_generate",
    "tlp_outbox_deliver",
    "tlp_outbox_drain",
    "tlp_outbox_enqueue",
    "tlp_outbox_enqueue_ledger_entries",
    "tlp_outbox_enqueue_ledger_entry",
    "tlp_outbox_requeue",
    "tlp_reconcile",
]
