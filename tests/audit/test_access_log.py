"""The access log: one row per staff read of a patient's data, and the rows that were in the
patients app before the log moved to this one."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from audit.models import PatientAccessLog
from audit.services import record_staff_read
from tests import factories

pytestmark = pytest.mark.django_db


def test_one_row_per_patient_however_often_the_read_names_them():
    staff_user = factories.UserFactory.create()
    kari, ola = factories.PatientFactory.create(), factories.PatientFactory.create()

    record_staff_read(staff_user=staff_user, patients=[kari, ola, kari], action="x" * 300)

    rows = list(PatientAccessLog.objects.order_by("patient_id").values_list("patient", "action"))
    assert rows == [(kari.pk, "x" * 200), (ola.pk, "x" * 200)]


def test_a_read_of_no_patient_writes_nothing():
    record_staff_read(staff_user=factories.UserFactory.create(), patients=[], action="list")
    assert not PatientAccessLog.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_log_moves_from_the_patients_app_with_its_rows():
    executor = MigrationExecutor(connection)
    before = [("patients", "0001_initial"), ("audit", None)]
    executor.migrate(before)
    old = executor.loader.project_state([("patients", "0001_initial")]).apps
    user = old.get_model("auth", "User").objects.create(username="sekretaer")
    patient = old.get_model("patients", "Patient").objects.create(
        national_id="17058012345", birth_date="1980-05-17", given_name="Kari", family_name="N"
    )
    old.get_model("patients", "PatientAccessLog").objects.create(
        staff_user=user, patient=patient, action="attendance list"
    )

    executor = MigrationExecutor(connection)  # the graph as it is on disk, to the end
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = PatientAccessLog.objects.get()
    assert (moved.staff_user_id, moved.patient_id, moved.action) == (
        user.pk,
        patient.pk,
        "attendance list",
    )
