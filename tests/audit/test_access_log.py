"""The access log: one row per staff read of a patient's data, and the rows that were in the
patients app before the log moved to this one."""

from datetime import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from access.errors import NotFound
from audit.models import PatientAccessLog
from audit.selectors import access_log_for
from audit.services import record_staff_read
from tests import factories
from tests.conftest import OSLO

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


def test_a_patient_sees_their_own_log_and_a_proxy_holder_the_subjects_until_it_ends(clock):
    staff_user = factories.UserFactory.create()
    proxy = factories.ProxyFactory.create()
    holder, child = proxy.holder, proxy.subject
    user = holder.user
    assert user is not None
    record_staff_read(staff_user=staff_user, patients=[holder], action="attendance list")
    record_staff_read(staff_user=staff_user, patients=[child], action="booking task")
    record_staff_read(staff_user=staff_user, patients=[child], action="plan")

    assert [r.action for r in access_log_for(user=user)] == ["attendance list"]
    assert [r.action for r in access_log_for(user=user, patient_id=child.pk)] == [
        "plan",
        "booking task",
    ]
    proxy.revoked_at = datetime(2027, 1, 4, 6, tzinfo=OSLO)
    proxy.save()
    with pytest.raises(NotFound):
        access_log_for(user=user, patient_id=child.pk)
