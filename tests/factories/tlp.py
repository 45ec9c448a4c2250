"""TLP test data. Configurations are made through ``tlp_configure`` (it checks the sandbox live); outbox rows
through ``tlp_outbox_enqueue`` where the transaction coupling matters, or this factory where it does not."""

from __future__ import annotations

import factory
from django.utils import timezone

from apps.tlp.models import TLPEntity, TLPOutbox


class TLPEntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TLPEntity

    kind = TLPEntity.Kind.MEMBER
    local_ref = factory.Sequence(lambda n: f"participant:p{n}")
    tlp_id = factory.Sequence(lambda n: f"mbr_{n:016x}")


def accrual_payload(points: int = 10, point_type_key: str = "campaign:test", name: str = "Test Points") -> dict:
    return {"points": points, "point_type": {"key": point_type_key, "name": name},
            "member": {"email": "", "name": ""}, "reference": "", "description": "test accrual"}


class TLPOutboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TLPOutbox

    operation = TLPOutbox.Operation.ACCRUE
    payload = factory.LazyFunction(accrual_payload)
    member_key = factory.Sequence(lambda n: f"participant:p{n}")
    idempotency_key = factory.Sequence(lambda n: f"test-row-{n}")
    next_attempt_at = factory.LazyFunction(timezone.now)
