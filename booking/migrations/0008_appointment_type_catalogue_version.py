"""A version on each appointment type that PostgreSQL renews on every change to the type, its
requirements, its preparation templates or its clinic, whoever makes it (the ORM, a queryset
update, plain SQL). A booking made with a type kept from an earlier request checks it.

Versions come from a sequence, which a rollback does not take back: a version that was never
committed is never handed out again, so equal versions always mean the same committed type."""

from django.db import migrations, models

from booking.migrations._postgres import on_postgres

CREATE = """
CREATE SEQUENCE booking_appointmenttype_catalogue_version;
UPDATE booking_appointmenttype
    SET catalogue_version = nextval('booking_appointmenttype_catalogue_version');
CREATE FUNCTION booking_appointmenttype_next_version() RETURNS trigger AS $$
BEGIN
    NEW.catalogue_version := nextval('booking_appointmenttype_catalogue_version');
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER booking_appointmenttype_next_version
    BEFORE INSERT OR UPDATE ON booking_appointmenttype
    FOR EACH ROW EXECUTE FUNCTION booking_appointmenttype_next_version();

-- A part changed: its type (both types, if the part moved) gets a new version.
CREATE FUNCTION booking_appointmenttype_part_changed() RETURNS trigger AS $$
BEGIN
    UPDATE booking_appointmenttype SET catalogue_version = 0  -- the trigger above renews it
    WHERE id IN (OLD.appointment_type_id, NEW.appointment_type_id);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER booking_resourcerequirement_changes_its_type
    AFTER INSERT OR UPDATE OR DELETE ON booking_resourcerequirement
    FOR EACH ROW EXECUTE FUNCTION booking_appointmenttype_part_changed();
CREATE TRIGGER booking_preparationtemplate_changes_its_type
    AFTER INSERT OR UPDATE OR DELETE ON booking_preparationtemplate
    FOR EACH ROW EXECUTE FUNCTION booking_appointmenttype_part_changed();

-- The clinic (its time zone, its name) is read with each of its types.
CREATE FUNCTION booking_clinic_changes_its_types() RETURNS trigger AS $$
BEGIN
    UPDATE booking_appointmenttype SET catalogue_version = 0  -- renewed as above
    WHERE clinic_id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER booking_clinic_changes_its_types
    AFTER UPDATE ON booking_clinic
    FOR EACH ROW EXECUTE FUNCTION booking_clinic_changes_its_types();
"""
DROP = """
DROP TRIGGER IF EXISTS booking_clinic_changes_its_types ON booking_clinic;
DROP FUNCTION IF EXISTS booking_clinic_changes_its_types();
DROP TRIGGER IF EXISTS booking_preparationtemplate_changes_its_type ON booking_preparationtemplate;
DROP TRIGGER IF EXISTS booking_resourcerequirement_changes_its_type ON booking_resourcerequirement;
DROP FUNCTION IF EXISTS booking_appointmenttype_part_changed();
DROP TRIGGER IF EXISTS booking_appointmenttype_next_version ON booking_appointmenttype;
DROP FUNCTION IF EXISTS booking_appointmenttype_next_version();
DROP SEQUENCE IF EXISTS booking_appointmenttype_catalogue_version;
"""


class Migration(migrations.Migration):
    dependencies = [("booking", "0007_history_indexes_covered_by_composite_ones")]

    operations = [
        migrations.AddField(
            model_name="appointmenttype",
            name="catalogue_version",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(on_postgres(CREATE), on_postgres(DROP)),
    ]
