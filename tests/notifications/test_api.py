"""The gateway's delivery reports: with the shared secret only, idempotent."""

import pytest
from rest_framework.test import APIClient

from notifications.models import Notification, NotificationStatus, Purpose
from notifications.services import dispatch_due
from tests.conftest import oslo

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/delivery-reports/"
SECRET = "a-shared-secret-with-the-gateway"


@pytest.fixture
def sent(clock, book, settings):
    settings.NOTIFICATIONS_DELIVERY_REPORT_SECRET = SECRET
    appointment = book()
    clock.move_to(oslo(2027, 1, 4, 9))
    dispatch_due()
    return Notification.objects.get(appointment=appointment, purpose=Purpose.BOOKED)


def report(body, secret=SECRET):
    headers = {"X-Delivery-Report-Secret": secret} if secret is not None else {}
    return APIClient().post(URL, body, format="json", headers=headers)


def test_a_report_marks_the_sms_delivered_and_a_repeat_changes_nothing(sent):
    assert report({"reference": str(sent.pk), "status": "delivered"}).status_code == 204
    sent.refresh_from_db()
    delivered_at = sent.delivered_at

    assert report({"reference": str(sent.pk), "status": "delivered"}).status_code == 204
    assert report({"reference": str(sent.pk), "status": "failed"}).status_code == 204

    sent.refresh_from_db()
    assert (sent.status, sent.delivered_at) == (NotificationStatus.DELIVERED, delivered_at)


def test_a_failed_report_marks_it_failed_for_staff(sent):
    body = {"reference": str(sent.pk), "status": "failed", "detail": "unknown subscriber"}
    assert report(body).status_code == 204

    sent.refresh_from_db()
    assert (sent.status, sent.last_error) == (NotificationStatus.FAILED, "unknown subscriber")


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
def test_without_the_secret_a_report_is_refused(sent, secret):
    response = report({"reference": str(sent.pk), "status": "failed"}, secret=secret)

    assert response.status_code == 403
    sent.refresh_from_db()
    assert sent.status == NotificationStatus.SENT


def test_with_no_secret_set_every_report_is_refused(sent, settings):
    settings.NOTIFICATIONS_DELIVERY_REPORT_SECRET = ""

    assert report({"reference": str(sent.pk), "status": "failed"}, secret="").status_code == 403


@pytest.mark.parametrize(
    "body", [{}, {"reference": "1"}, {"reference": "1", "status": "lost"}, {"status": "failed"}]
)
def test_a_malformed_report_is_answered_400(sent, body):
    assert report(body).status_code == 400


def test_an_unknown_reference_changes_nothing(sent):
    assert report({"reference": "not-ours", "status": "failed"}).status_code == 204
    assert report({"reference": str(sent.pk + 100), "status": "failed"}).status_code == 204
    sent.refresh_from_db()
    assert sent.status == NotificationStatus.SENT
