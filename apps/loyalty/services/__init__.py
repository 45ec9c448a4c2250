"""Loyalty writes. Import from here: ``from apps.loyalty import services``.

The ledger (``ledger.py``) is the heart; orders, redemptions and tiers build on it. See each module's
docstrings for what a function promises and refuses.
"""

from apps.loyalty.services.expiry import points_expire_due, points_unlock_due
from apps.loyalty.services.ledger import (
    AwardInput,
    points_award,
    points_award_bulk,
    points_deduct,
    points_reverse,
    points_transfer,
)
from apps.loyalty.services.notifications import loyalty_expiry_warning_notify, points_expiry_warnings_send
from apps.loyalty.services.orders import (
    OrderInput,
    OrderLineInput,
    RefundLineInput,
    event_record,
    order_record,
    order_refund,
    orders_import,
    orders_record,
)
from apps.loyalty.services.programs import (
    MemberInput,
    earn_rule_create,
    earn_rule_delete,
    earn_rule_update,
    member_enroll,
    member_update,
    members_import,
    program_create,
    program_delete,
    program_update,
    reward_create,
    reward_delete,
    reward_restock,
    reward_update,
    tier_create,
    tier_delete,
    tier_update,
)
from apps.loyalty.services.redemptions import (
    points_redeem,
    redemption_cancel,
    redemption_complete,
    redemption_reserve,
    redemptions_release_expired,
)
from apps.loyalty.services.tiers import member_tier_recalculate, tier_downgrades_apply_due, tier_recalculate

__all__ = [
    "AwardInput",
    "MemberInput",
    "OrderInput",
    "OrderLineInput",
    "RefundLineInput",
    "earn_rule_create",
    "earn_rule_delete",
    "earn_rule_update",
    "event_record",
    "loyalty_expiry_warning_notify",
    "member_enroll",
    "member_tier_recalculate",
    "member_update",
    "members_import",
    "order_record",
    "order_refund",
    "orders_import",
    "orders_record",
    "points_award",
    "points_award_bulk",
    "points_deduct",
    "points_expire_due",
    "points_expiry_warnings_send",
    "points_redeem",
    "points_reverse",
    "points_transfer",
    "points_unlock_due",
    "program_create",
    "program_delete",
    "program_update",
    "redemption_cancel",
    "redemption_complete",
    "redemption_reserve",
    "redemptions_release_expired",
    "reward_create",
    "reward_delete",
    "reward_restock",
    "reward_update",
    "tier_create",
    "tier_delete",
    "tier_downgrades_apply_due",
    "tier_recalculate",
    "tier_update",
]
