"""The ledger is append-only at the database level too.

``loyalty_ledgerentry``: no DELETE; an UPDATE may only move ``status`` along pending → active | cancelled
or active → expired (touching ``status_changed_at``/``updated_at``), or clear ``actor_id`` when the user is
deleted. ``loyalty_ledgerallocation``: no UPDATE, no DELETE. The functions live in the tenant schema, so
the template clone carries them (and the triggers) into every new tenant.
"""

from django.db import migrations

GUARD_SQL = r"""
CREATE OR REPLACE FUNCTION loyalty_ledgerentry_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'loyalty ledger entries are append-only: DELETE refused' USING ERRCODE = '23001';
    END IF;
    IF (to_jsonb(NEW) - 'status' - 'status_changed_at' - 'updated_at' - 'actor_id')
       IS DISTINCT FROM (to_jsonb(OLD) - 'status' - 'status_changed_at' - 'updated_at' - 'actor_id') THEN
        RAISE EXCEPTION 'loyalty ledger entries are append-only: only the status may change'
            USING ERRCODE = '23001';
    END IF;
    IF NEW.actor_id IS DISTINCT FROM OLD.actor_id AND NEW.actor_id IS NOT NULL THEN
        RAISE EXCEPTION 'loyalty ledger entries are append-only: the actor may only be cleared'
            USING ERRCODE = '23001';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
        (OLD.status = 'pending' AND NEW.status IN ('active', 'cancelled'))
        OR (OLD.status = 'active' AND NEW.status = 'expired')
    ) THEN
        RAISE EXCEPTION 'loyalty ledger entry status cannot move from % to %', OLD.status, NEW.status
            USING ERRCODE = '23001';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER loyalty_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON loyalty_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION loyalty_ledgerentry_guard();

CREATE OR REPLACE FUNCTION loyalty_ledgerallocation_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'loyalty ledger allocations are append-only: % refused', TG_OP USING ERRCODE = '23001';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER loyalty_ledgerallocation_append_only
    BEFORE UPDATE OR DELETE ON loyalty_ledgerallocation
    FOR EACH ROW EXECUTE FUNCTION loyalty_ledgerallocation_guard();
"""

REVERSE_SQL = r"""
DROP TRIGGER IF EXISTS loyalty_ledgerallocation_append_only ON loyalty_ledgerallocation;
DROP FUNCTION IF EXISTS loyalty_ledgerallocation_guard();
DROP TRIGGER IF EXISTS loyalty_ledgerentry_append_only ON loyalty_ledgerentry;
DROP FUNCTION IF EXISTS loyalty_ledgerentry_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]

    operations = [migrations.RunSQL(GUARD_SQL, REVERSE_SQL)]
