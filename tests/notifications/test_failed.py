"""Staff see the failed notices of their own clinics, send one again or mark it handled."""

import pytest

from access.errors import NotAllowed, NotFound
from access.roles import StaffRole
from audit.models import PatientAccessLog
from notifications.models import Notification, NotificationStatus, Purpose
from notifications.selectors import failed_notifications
from notifications.services import dispatch_due, notification_mark_handled, notification_retry
from tests import factories
from tests.conftest import oslo

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed(clock, book, settings):
    settings.NOTIFICATIONS_SMS_BACKEND = "tests.notifications.backends.Refusing"
    appointment = book()
    clock.move_to(oslo(2027, 1, 4, 9))
    dispatch_due()
    return Notification.objects.get(appointment=appointment, purpose=Purpose.BOOKED)


@pytest.fixture
def secretary(clinic):
    return factories.StaffFactory.create(clinic=clinic, role=StaffRole.SECRETARY).user


def test_staff_see_their_clinics_failed_notices_and_the_read_is_logged(failed, secretary, clinic):
    assert failed_notifications(user=secretary, clinic_id=clinic.pk) == [failed]
    assert PatientAccessLog.objects.filter(
        staff_user=secretary, patient=failed.appointment.patient
    ).exists()


def test_another_clinics_staff_and_patients_see_none(failed, clinic, patient):
    other = factories.StaffFactory.create(role=StaffRole.SECRETARY).user

    with pytest.raises(NotFound):
        failed_notifications(user=other, clinic_id=clinic.pk)
    with pytest.raises(NotAllowed):
        failed_notifications(user=patient.user, clinic_id=clinic.pk)


def test_a_retried_notice_is_sent_again_from_its_first_attempt(failed, secretary, settings):
    settings.NOTIFICATIONS_SMS_BACKEND = "tests.notifications.backends.Recording"

    notification_retry(notification=failed)
    dispatch_due()

    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (NotificationStatus.SENT, 1)


def test_a_handled_notice_leaves_the_list(failed, secretary, clinic):
    notification_mark_handled(notification=failed, user=secretary)

    assert failed_notifications(user=secretary, clinic_id=clinic.pk) == []
    assert failed_notifications(user=secretary, clinic_id=clinic.pk, include_handled=True) == [
        failed
    ]
    failed.refresh_from_db()
    assert failed.handled_by == secretary
