"""The channels against real servers on loopback: a booking leads to exactly one SMS through
the HTTP gateway backend and one e-mail through SMTP."""

import pytest

from notifications.models import Notification, NotificationStatus, Purpose
from notifications.services import dispatch_due
from tests.conftest import oslo
from tests.notifications.servers import sms_gateway, smtp_server

pytestmark = pytest.mark.django_db

MON_9 = oslo(2027, 1, 4, 9)


@pytest.fixture
def gateway(settings):
    with sms_gateway() as gateway:
        settings.NOTIFICATIONS_SMS_BACKEND = "notifications.channels.HttpGatewaySms"
        settings.NOTIFICATIONS_SMS_GATEWAY_URL = gateway.url
        settings.NOTIFICATIONS_SMS_GATEWAY_USER = gateway.user
        settings.NOTIFICATIONS_SMS_GATEWAY_PASSWORD = gateway.password
        settings.NOTIFICATIONS_SMS_SENDER = "Sykehuset"
        settings.NOTIFICATIONS_SMS_GATEWAY_TIMEOUT_S = 5
        yield gateway


@pytest.fixture
def mailbox(settings):
    with smtp_server() as (port, messages):
        settings.NOTIFICATIONS_EMAIL_BACKEND = "notifications.channels.DjangoEmail"
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.DEFAULT_FROM_EMAIL = "ikke-svar@sykehuset.example"
        yield messages


@pytest.fixture
def wants_both(patient):
    patient.notify_by_email = True
    patient.email = "kari@example.no"
    patient.save()
    return patient


def test_a_booking_gives_exactly_one_sms_and_one_email(clock, book, gateway, mailbox, wants_both):
    appointment = book()
    clock.move_to(MON_9)

    assert dispatch_due() == 2
    assert dispatch_due() == 0

    (sms,) = gateway.received
    (email,) = mailbox
    sms_row = Notification.objects.get(appointment=appointment, purpose="booked", channel="sms")
    assert sms == {
        "sender": "Sykehuset",
        "recipient": wants_both.phone,
        "text": sms["text"],
        "reference": str(sms_row.pk),
    }
    assert "onsdag 13. januar 2027 kl. 10.00" in sms["text"]
    assert email["To"] == "kari@example.no"
    assert email["From"] == "ikke-svar@sykehuset.example"
    assert email["Subject"] == "Din time"  # in the patient's language (bokmål)
    assert "onsdag 13. januar 2027 kl. 10.00" in email.get_payload(decode=True).decode()
    assert set(
        Notification.objects.filter(purpose=Purpose.BOOKED).values_list("status", flat=True)
    ) == {NotificationStatus.SENT}


def test_a_gateway_that_answers_503_is_tried_again_and_sends_once(clock, book, gateway):
    appointment = book()
    gateway.failures = 2
    clock.move_to(MON_9)

    for minutes in (0, 1, 3):
        clock.move_to(oslo(2027, 1, 4, 9, minutes))
        dispatch_due()

    notice = Notification.objects.get(appointment=appointment, purpose=Purpose.BOOKED)
    assert (notice.status, notice.attempts) == (NotificationStatus.SENT, 3)
    assert gateway.by_reference == {str(notice.pk): 1}


def test_a_number_the_gateway_refuses_is_failed_at_once(clock, book, gateway):
    appointment = book()
    gateway.failures, gateway.failure_status = 1, 400
    clock.move_to(MON_9)

    dispatch_due()

    notice = Notification.objects.get(appointment=appointment, purpose=Purpose.BOOKED)
    assert (notice.status, notice.last_error) == (
        NotificationStatus.FAILED,
        "gateway refused: HTTP 400",
    )


def test_a_gateway_that_does_not_answer_in_time_is_tried_again(clock, book, settings):
    settings.NOTIFICATIONS_SMS_BACKEND = "notifications.channels.HttpGatewaySms"
    settings.NOTIFICATIONS_SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"  # nothing listens
    appointment = book()
    clock.move_to(MON_9)

    dispatch_due()

    notice = Notification.objects.get(appointment=appointment, purpose=Purpose.BOOKED)
    assert (notice.status, notice.attempts) == (NotificationStatus.PENDING, 1)
    assert "refused" in notice.last_error
