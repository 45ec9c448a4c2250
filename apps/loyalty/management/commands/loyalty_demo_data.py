"""Demo loyalty data for a tenant: a tiered program (Bronze/Silver/Gold), earn rules, a reward catalogue and
``--members`` members with a year of purchases, refunds, redemptions and expiries, all through the services
so every ledger is consistent. A referral campaign is added when apps.referrals is installed.

    manage.py loyalty_demo_data --schema acme --members 3000 [--if-empty] [--seed 7]
"""

from __future__ import annotations

import random
import time
import unicodedata
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists

from apps.loyalty import services
from apps.loyalty.models import Member, Program

FIRST_NAMES = ["Ana", "Bruno", "Carla", "Diego", "Elisa", "Felipe", "Gabriela", "Heitor", "Isabela", "João",
               "Larissa", "Marcos", "Natália", "Otávio", "Paula", "Rafael", "Sofia", "Tiago", "Vitória", "Yuri"]
LAST_NAMES = ["Silva", "Souza", "Oliveira", "Santos", "Lima", "Pereira", "Costa", "Rodrigues", "Almeida",
              "Nascimento", "Carvalho", "Gomes", "Martins", "Rocha", "Ribeiro"]
CATALOGUE = [  # sku, name, price, labels
    ("CAF-250", "Café especial 250 g", "32.90", ("grocery",)),
    ("AZE-500", "Azeite extra virgem 500 ml", "45.00", ("grocery", "promo")),
    ("CHO-100", "Chocolate 70% 100 g", "14.50", ("grocery",)),
    ("VIN-750", "Vinho tinto 750 ml", "89.00", ("wine",)),
    ("QUE-300", "Queijo canastra 300 g", "58.00", ("deli", "promo")),
    ("PAN-001", "Panela de ferro", "219.00", ("home",)),
    ("TAC-006", "Jogo de taças (6)", "129.00", ("home",)),
    ("GIFT-CARD", "Vale-presente", "100.00", ("gift",)),
]


class Command(BaseCommand):
    help = "Create a demo loyalty program with members and a realistic purchase history in a tenant."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--schema", required=True, help="tenant schema, e.g. acme")
        parser.add_argument("--members", type=int, default=3000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--if-empty", action="store_true", help="do nothing if the tenant has a program")

    def handle(self, *args: Any, **opts: Any) -> None:
        schema = opts["schema"]
        if not schema_exists(schema):
            raise CommandError(f"no tenant schema {schema!r}")
        started = time.perf_counter()
        # One schema for the whole run: set the search path once instead of before every query. Safe here
        # because the first query (below) runs outside any transaction, so no rollback can undo the SET.
        with schema_context(schema), override_settings(TENANT_LIMIT_SET_CALLS=True):
            if Program.objects.exists() and opts["if_empty"]:
                self.stdout.write("loyalty demo data: the tenant already has a program, nothing done")
                return
            stats = demo_build(members=opts["members"], seed=opts["seed"])
        self.stdout.write(
            f"loyalty demo data in {schema}: {stats['members']} members, {stats['orders']} orders, "
            f"{stats['refunds']} refunds, {stats['redemptions']} redemptions, {stats['expired']} awards expired "
            f"({time.perf_counter() - started:.1f} s)"
        )


def _program() -> Program:
    program = services.program_create(
        name="Acme Rewards", description="Pontos em todas as compras; níveis Bronze, Prata e Ouro.",
        type=Program.Type.TIERED, status=Program.Status.ACTIVE, currency="BRL", min_redeem_points=100,
        points_value_per_100=Decimal("1.00"), expiration_enabled=True, expiration_months=12, expiry_warning_days=30,
        pending_days=0, tier_basis=Program.TierBasis.SPEND, tier_window_days=365,
        tier_downgrade_policy=Program.TierDowngradePolicy.AFTER_DAYS, tier_downgrade_after_days=30,
        transfers_enabled=True,
    )
    bronze = services.tier_create(program=program, name="Bronze", rank=1, threshold=Decimal("0"))
    silver = services.tier_create(program=program, name="Silver", rank=2, threshold=Decimal("1000"),
                                  points_multiplier=Decimal("1.25"), free_shipping=True)
    services.tier_create(program=program, name="Gold", rank=3, threshold=Decimal("3000"),
                         points_multiplier=Decimal("1.5"), free_shipping=True, early_access=True,
                         exclusive_access=True)
    services.earn_rule_create(
        program=program, name="1 ponto por real", points_per_unit=Decimal("1"),
        multipliers=[{"scope": "label", "value": "promo", "multiplier": Decimal("2")},
                     {"scope": "tier", "tier": silver, "multiplier": Decimal("1.1")}],
        exclusions=[{"scope": "sku", "value": "GIFT-CARD"}],
    )
    services.earn_rule_create(program=program, name="Bônus pedido acima de R$ 300", calculation="fixed",
                              fixed_points=150, min_order_value=Decimal("300"), limit_period="month",
                              limit_awards=2)
    services.earn_rule_create(program=program, name="Boas-vindas", event="signup", calculation="fixed",
                              fixed_points=100)
    services.earn_rule_create(program=program, name="Avaliação de produto", event="review", calculation="fixed",
                              fixed_points=50, limit_period="month", limit_awards=3)
    for name, kind, cost, value, stock in [
        ("Desconto de R$ 10", "discount", 500, "10.00", None),
        ("Frete grátis", "free_shipping", 300, "15.00", None),
        ("Desconto de R$ 50", "discount", 2500, "50.00", None),
        ("Caneca Acme", "free_product", 1200, "39.00", 80),
        ("Vale-presente R$ 100", "gift_card", 5000, "100.00", 25),
    ]:
        services.reward_create(program=program, name=name, type=kind, points_cost=cost, value=Decimal(value),
                               stock_limited=stock is not None, stock_available=stock or 0)
    del bronze
    return program


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _lines(rng: random.Random) -> list[services.OrderLineInput]:
    picks = rng.sample(CATALOGUE, k=rng.choice([1, 1, 2, 2, 3, 4]))
    return [services.OrderLineInput(sku=sku, name=name, unit_price=Decimal(price), labels=labels,
                                    quantity=rng.choice([1, 1, 1, 2, 3])) for sku, name, price, labels in picks]


def demo_build(*, members: int, seed: int = 7, now: datetime | None = None, chunk: int = 500) -> dict[str, int]:
    """Build the demo program and history in the current schema. Deterministic per seed.

    Members are enrolled with ``members_import`` and each one's purchases recorded with ``orders_record``
    (the bulk forms of ``member_enroll``/``order_record``: same rules, one insert per table); refunds,
    reviews, redemptions and the expiry run go through the ordinary services."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    now = now or timezone.now()
    stats = {"members": 0, "orders": 0, "refunds": 0, "redemptions": 0, "expired": 0}
    with transaction.atomic():
        program = _program()
        rewards = list(program.rewards.order_by("points_cost"))
    enrolled: list[Member] = []
    for start in range(0, members, chunk):
        rows = []
        for index in range(start, min(members, start + chunk)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            rows.append(services.MemberInput(
                customer_id=f"ACME-{index + 1:06d}", name=f"{first} {last}",
                email=_ascii(f"{first}.{last}.{index + 1}@example.com").lower(),
                consents={"marketing": rng.random() < 0.6, "email": rng.random() < 0.8, "sms": rng.random() < 0.3},
                enrolled_at=now - timedelta(days=rng.randint(30, 540)),
            ))
        with transaction.atomic():
            batch = services.members_import(program=program, members=rows)
            histories = [(member, _purchases(member, rng=rng, now=now)) for member in batch]
            # The history predates the referral program: the referral demo below converts its own referrals.
            recorded = services.orders_import(program=program, orders=histories, notify_referrals=False)
            for (member, _orders), orders in zip(histories, recorded, strict=True):
                _aftermath(member, orders, rng=rng, rewards=rewards, stats=stats)
        enrolled.extend(batch)
    stats["members"] = len(enrolled)
    stats["expired"] = services.points_expire_due(now=now)
    try:
        from apps.referrals.demo import referrals_demo_data  # optional app, imported lazily
    except ImportError:
        referrals_demo_data = None
    if referrals_demo_data is not None:
        referrals_demo_data(program=program, members=enrolled[: min(len(enrolled), 150)], seed=seed)
    return stats


def _purchases(member: Member, *, rng: random.Random, now: datetime) -> list[services.OrderInput]:
    """A member's purchases: most buy a few times, a few are regulars, some never come back."""
    count = rng.choices([0, 1, 2, 3, 5, 8, 14], weights=[8, 22, 20, 18, 16, 10, 6])[0]
    days = max(1, (now - member.enrolled_at).days - 1)
    placed = sorted(member.enrolled_at + timedelta(days=rng.randint(0, days), minutes=rng.randint(0, 1439))
                    for _number in range(count))
    return [services.OrderInput(external_id=f"{member.customer_id}-{number + 1:03d}", lines=_lines(rng),
                                placed_at=min(moment, now),
                                delivery_cost=Decimal(rng.choice(["0", "0", "12.90", "19.90"])))
            for number, moment in enumerate(placed)]


def _aftermath(member: Member, orders: list, *, rng: random.Random, rewards: list, stats: dict[str, int]) -> None:
    """An occasional refund and review, and sometimes a redemption when the points allow."""
    stats["orders"] += len(orders)
    for order in orders:
        if rng.random() < 0.02:
            lines = None if rng.random() < 0.5 else [services.RefundLineInput(sku=order.lines.first().sku, quantity=1)]
            try:
                services.order_refund(order=order, external_id=f"{order.external_id}-R", lines=lines)
                stats["refunds"] += 1
            except services.orders.ApplicationError:
                pass  # e.g. the same SKU on two lines: skip this refund
    if rng.random() < 0.05:
        services.event_record(member=member, event="review", idempotency_key="demo-review")
    affordable = [reward for reward in rewards if reward.points_cost <= member.available]
    if affordable and rng.random() < 0.12:
        try:
            services.points_redeem(member=member, reward=rng.choice(affordable), idempotency_key=f"demo-{member.pk}")
            stats["redemptions"] += 1
        except services.redemptions.ApplicationError:
            pass  # out of stock, or a refund above took the points back
