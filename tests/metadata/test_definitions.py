"""Definition changes: names, limits, type changes with a dry run, archive and purge,
versions and audit rows, and the cache seeing another connection's change."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django_tenants.utils import schema_context, tenant_context

from crm.models import Guest
from metadata.definitions import metadata_version, object_snapshot, snapshot
from metadata.models import FieldDefinition, MetadataChange
from metadata.services.definitions import (
    MAX_FIELDS_PER_OBJECT,
    custom_field_archive,
    custom_field_create,
    custom_field_purge,
    custom_field_restore,
    custom_field_type_change,
    custom_field_update,
)
from metadata.services.values import custom_values_clean
from tenants.errors import ApplicationError, Conflict
from tests.crm.factories import make_guest
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "api_name, code",
    [
        ("id", "reserved"),
        ("custom", "reserved"),
        ("surname", "reserved"),  # a standard column of guest
        ("class", "reserved"),
        ("Tier", "api_name"),
        ("tier__gt", "api_name"),
        ("1tier", "api_name"),
        ("t", "api_name"),
    ],
)
def test_reserved_and_malformed_names_are_refused(tenant_a, api_name, code):
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as exc:
            custom_field_create(
                object_api_name="guest", api_name=api_name, label="X", type="text", actor=SYSTEM
            )
        assert exc.value.error_dict["api_name"][0].code == code


def test_field_names_are_unique_per_object(tenant_a):
    with tenant_context(tenant_a):
        custom_field_create(
            object_api_name="guest", api_name="tier", label="Tier", type="text", actor=SYSTEM
        )
        with pytest.raises(ValidationError) as exc:
            custom_field_create(
                object_api_name="guest", api_name="tier", label="T", type="text", actor=SYSTEM
            )
        assert exc.value.error_dict["api_name"][0].code == "taken"
        # Another object may use the name.
        custom_field_create(
            object_api_name="company", api_name="tier", label="T", type="text", actor=SYSTEM
        )


def test_at_most_500_fields_per_object(tenant_a):
    with tenant_context(tenant_a):
        guest = object_snapshot("guest").definition
        FieldDefinition.objects.bulk_create(
            FieldDefinition(object=guest, api_name=f"f{i:03d}", label=f"F{i}", type="text")
            for i in range(MAX_FIELDS_PER_OBJECT - 1)
        )
        custom_field_create(
            object_api_name="guest", api_name="last_one", label="L", type="text", actor=SYSTEM
        )
        with pytest.raises(Conflict) as exc:
            custom_field_create(
                object_api_name="guest",
                api_name="one_more",
                label="M",
                type="text",
                actor=SYSTEM,
            )
        assert exc.value.code == "field_limit"
        assert FieldDefinition.objects.filter(object=guest).count() == MAX_FIELDS_PER_OBJECT


def test_every_change_is_versioned_and_audited(tenant_a):
    with tenant_context(tenant_a):
        start = metadata_version()
        custom_field_create(
            object_api_name="guest", api_name="tier", label="Tier", type="text", actor=SYSTEM
        )
        custom_field_update(
            object_api_name="guest",
            api_name="tier",
            label="Loyalty tier",
            translations={"zh-hans": {"label": "会员等级"}},
            actor=SYSTEM,
        )
        changes = list(MetadataChange.objects.filter(target="guest.tier").order_by("version"))
        assert [c.action for c in changes] == ["field.create", "field.update"]
        assert changes[0].version > start and changes[1].version > changes[0].version
        assert metadata_version() == changes[1].version
        assert changes[1].before["translations"]["en"]["label"] == "Tier"
        assert changes[1].after["translations"]["en"]["label"] == "Loyalty tier"
        assert changes[1].after["translations"]["zh-hans"]["label"] == "会员等级"


def test_a_failed_change_leaves_no_trace(tenant_a):
    with tenant_context(tenant_a):
        before = (FieldDefinition.objects.count(), MetadataChange.objects.count())
        with pytest.raises(ValidationError):
            custom_field_create(
                object_api_name="guest",
                api_name="tier",
                label="Tier",
                type="choice",
                choices=[],
                actor=SYSTEM,
            )
        assert (FieldDefinition.objects.count(), MetadataChange.objects.count()) == before


def test_type_change_dry_run_then_apply(tenant_a):
    with tenant_context(tenant_a):
        custom_field_create(
            object_api_name="guest",
            api_name="room_pref",
            label="Room",
            type="text",
            actor=SYSTEM,
        )
        good = [make_guest(custom={"room_pref": str(n)}) for n in (101, 202)]
        bad = make_guest(custom={"room_pref": "sea view"})
        report = custom_field_type_change(
            object_api_name="guest",
            api_name="room_pref",
            new_type="integer",
            dry_run=True,
            actor=SYSTEM,
        )
        assert (report["values"], report["convertible"], report["failing"]) == (3, 2, 1)
        assert report["examples"] == [
            {"id": bad.pk, "value": "sea view", "error": "must be a number."}
        ]
        assert Guest.objects.get(pk=good[0].pk).custom == {"room_pref": "101"}  # untouched
        with pytest.raises(ApplicationError) as exc:
            custom_field_type_change(
                object_api_name="guest",
                api_name="room_pref",
                new_type="integer",
                dry_run=False,
                actor=SYSTEM,
            )
        assert exc.value.code == "type_change_refused"
        assert FieldDefinition.objects.get(api_name="room_pref").type == "text"

        Guest.objects.filter(pk=bad.pk).update(custom={"room_pref": "303"})
        report = custom_field_type_change(
            object_api_name="guest",
            api_name="room_pref",
            new_type="integer",
            dry_run=False,
            actor=SYSTEM,
        )
        assert report["applied"] and report["convertible"] == 3
        assert Guest.objects.get(pk=good[1].pk).custom == {"room_pref": 202}
        assert FieldDefinition.objects.get(api_name="room_pref").type == "integer"


def test_archive_hides_keeps_data_and_purge_needs_confirmation(tenant_a):
    with tenant_context(tenant_a):
        custom_field_create(
            object_api_name="guest", api_name="pillow", label="Pillow", type="text", actor=SYSTEM
        )
        guest = make_guest(custom={"pillow": "feather"})
        with pytest.raises(ApplicationError) as exc:
            custom_field_purge(
                object_api_name="guest", api_name="pillow", confirm="pillow", actor=SYSTEM
            )
        assert exc.value.code == "not_archived"

        custom_field_archive(object_api_name="guest", api_name="pillow", actor=SYSTEM)
        assert "pillow" not in object_snapshot("guest").active_fields
        assert Guest.objects.get(pk=guest.pk).custom == {"pillow": "feather"}
        with pytest.raises(ValidationError) as verr:
            custom_values_clean(object_api_name="guest", values={"pillow": "foam"})
        assert verr.value.error_dict["pillow"][0].code == "archived"
        # A full replace of other values keeps the archived value.
        kept = custom_values_clean(
            object_api_name="guest", values={}, existing={"pillow": "feather"}
        )
        assert kept == {"pillow": "feather"}

        custom_field_restore(object_api_name="guest", api_name="pillow", actor=SYSTEM)
        custom_field_archive(object_api_name="guest", api_name="pillow", actor=SYSTEM)
        with pytest.raises(ApplicationError) as exc:
            custom_field_purge(
                object_api_name="guest", api_name="pillow", confirm="yes", actor=SYSTEM
            )
        assert exc.value.code == "confirmation_required"
        result = custom_field_purge(
            object_api_name="guest", api_name="pillow", confirm="pillow", actor=SYSTEM
        )
        assert result["values_removed"] == 1
        assert Guest.objects.get(pk=guest.pk).custom == {}
        assert not FieldDefinition.objects.filter(api_name="pillow").exists()
        assert MetadataChange.objects.filter(target="guest.pillow", action="field.purge").exists()


def test_removing_a_choice_in_use_is_refused(tenant_a):
    with tenant_context(tenant_a):
        custom_field_create(
            object_api_name="guest",
            api_name="tier",
            label="Tier",
            type="choice",
            choices=["gold", "silver"],
            actor=SYSTEM,
        )
        make_guest(custom={"tier": "gold"})
        with pytest.raises(ValidationError) as exc:
            custom_field_update(
                object_api_name="guest", api_name="tier", choices=["silver"], actor=SYSTEM
            )
        assert "gold" in exc.value.message_dict["choices"][0]


@pytest.mark.django_db(transaction=False)
def test_cache_sees_a_change_committed_by_another_connection(tenant_a, django_db_blocker):
    """Another process changes the definitions; this one must not serve its old copy."""
    with tenant_context(tenant_a):
        assert "spa_visits" not in object_snapshot("guest").fields
        cached_version = metadata_version()

    made: list[int] = []

    def other_process():
        try:
            with schema_context(tenant_a.schema_name):
                connection.tenant = tenant_a
                field = custom_field_create(
                    object_api_name="guest",
                    api_name="spa_visits",
                    label="Spa visits",
                    type="integer",
                    actor=SYSTEM,
                )
                made.append(field.pk)
        finally:
            connections.close_all()

    worker = threading.Thread(target=other_process)
    worker.start()
    worker.join()
    try:
        with tenant_context(tenant_a):
            assert metadata_version() > cached_version
            assert "spa_visits" in object_snapshot("guest").fields
            assert custom_values_clean(object_api_name="guest", values={"spa_visits": "3"}) == {
                "spa_visits": 3
            }
    finally:
        # The other connection committed: undo it so later tests start clean.
        def cleanup():
            try:
                with schema_context(tenant_a.schema_name):
                    FieldDefinition.objects.filter(pk__in=made).delete()
            finally:
                connections.close_all()

        cleaner = threading.Thread(target=cleanup)
        cleaner.start()
        cleaner.join()
    assert made


def test_snapshot_lists_builtin_objects_registered_by_crm(tenant_a):
    with tenant_context(tenant_a):
        names = set(snapshot())
        assert {"guest", "company", "reservation", "property"} <= names
        assert object_snapshot("guest").model() is Guest
