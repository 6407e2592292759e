"""The database keeps the ledger append-only: an entry is never deleted, and an update
may only change what is left of a bucket (``remaining``) or, when two memberships are
merged, which member holds it (``member_id``). The function and trigger live in each
tenant schema (the template's are cloned with it). Purging a tenant's ledger on purpose
(tests, a data-removal script) sets ``loyalty.ledger_purge`` to ``on`` for its
transaction.

The statements are separate items (not one script): Citus forwards DDL on a distributed
schema to the worker as one prepared statement, which cannot hold two commands."""

from django.db import migrations

GUARD_FUNCTION = """
CREATE FUNCTION loyalty_ledger_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('loyalty.ledger_purge', true) = 'on' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'loyalty ledger entries are never deleted (entry %)', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.id, NEW.kind, NEW.source, NEW.points, NEW.expires_on, NEW.stay_on, NEW.nights,
        NEW.revenue, NEW.reservation_id, NEW.redemption_id, NEW.reverses_id,
        NEW.actor_user_id, NEW.actor_label, NEW.reason, NEW.details, NEW.created_at)
       IS DISTINCT FROM
       (OLD.id, OLD.kind, OLD.source, OLD.points, OLD.expires_on, OLD.stay_on, OLD.nights,
        OLD.revenue, OLD.reservation_id, OLD.redemption_id, OLD.reverses_id,
        OLD.actor_user_id, OLD.actor_label, OLD.reason, OLD.details, OLD.created_at) THEN
        RAISE EXCEPTION 'loyalty ledger entries are append-only; only remaining changes (entry %)',
            OLD.id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$
"""
GUARD_TRIGGER = """
CREATE TRIGGER loyalty_ledger_append_only BEFORE UPDATE OR DELETE ON loyalty_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION loyalty_ledger_guard()
"""

UNGUARD = [
    "DROP TRIGGER loyalty_ledger_append_only ON loyalty_ledgerentry",
    "DROP FUNCTION loyalty_ledger_guard()",
]


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0002_programme_and_rights")]

    operations = [migrations.RunSQL([GUARD_FUNCTION, GUARD_TRIGGER], reverse_sql=UNGUARD)]
