"""On PostgreSQL a trigger makes the appointment history append-only for any client, not only
for the ORM (which refuses updates and deletes itself)."""

from django.db import migrations

from booking.migrations._postgres import on_postgres

CREATE = """
CREATE FUNCTION booking_appointmentevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'booking_appointmentevent is append-only' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER booking_appointmentevent_append_only
    BEFORE UPDATE OR DELETE ON booking_appointmentevent
    FOR EACH ROW EXECUTE FUNCTION booking_appointmentevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS booking_appointmentevent_append_only ON booking_appointmentevent;
DROP FUNCTION IF EXISTS booking_appointmentevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("booking", "0002_initial")]
    operations = [migrations.RunPython(on_postgres(CREATE), on_postgres(DROP))]
