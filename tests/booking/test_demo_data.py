from collections import Counter, defaultdict
from datetime import UTC, datetime
from io import StringIO
from itertools import pairwise

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from booking.management.commands.load_demo_data import is_holiday
from booking.models import (
    Absence,
    Allocation,
    Appointment,
    AppointmentEvent,
    AppointmentType,
    Clinic,
    PreparationTask,
    Resource,
    StaffMembership,
    WorkingHours,
)
from patients.models import (
    AvailabilityWindow,
    Patient,
    Proxy,
    ProxyKind,
    Referral,
    UnavailablePeriod,
)

pytestmark = pytest.mark.django_db

COUNTED = (
    Clinic,
    StaffMembership,
    Resource,
    WorkingHours,
    Absence,
    AppointmentType,
    Patient,
    Proxy,
    AvailabilityWindow,
    UnavailablePeriod,
    Referral,
    Appointment,
    Allocation,
    PreparationTask,
    AppointmentEvent,
)


def load_demo_data() -> str:
    """The demo without its year of history (tests/insights/test_demo_history.py covers that):
    these tests count the users' stories."""
    out = StringIO()
    call_command("load_demo_data", "--without-history", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    rows = {model.__name__: model.objects.count() for model in COUNTED}
    return {**rows, "User": get_user_model().objects.count()}


def test_it_creates_one_clinic_with_staff_and_twelve_resources():
    load_demo_data()

    clinic = Clinic.objects.get()
    assert (clinic.name, clinic.time_zone) == ("Medisinsk poliklinikk", "Europe/Oslo")
    roles = dict(StaffMembership.objects.values_list("user__username", "role"))
    assert roles == {"sekretaer": "secretary", "leder": "leader", "lege": "clinician"}
    kinds = Counter(Resource.objects.values_list("kind", flat=True))
    assert kinds == {"clinician": 6, "room": 4, "equipment": 2}
    assert Absence.objects.get().reason == "course"


def test_it_gives_clinicians_part_time_and_fortnightly_hours():
    load_demo_data()

    tue_thu = WorkingHours.objects.filter(resource__name="Sofie Nilsen")
    assert sorted(tue_thu.values_list("weekday", flat=True)) == [1, 3]
    fridays = WorkingHours.objects.get(resource__name="Erik Dahl", weekday=4)
    assert fridays.interval_weeks == 2
    assert not WorkingHours.objects.filter(weekday__gte=5).exists()


def test_the_colonoscopy_has_three_requirements_and_the_three_preparations():
    load_demo_data()

    colonoscopy = AppointmentType.objects.get(name="Koloskopi")
    requirements = colonoscopy.requirements.values_list("kind", "tag")
    assert sorted(requirements) == [
        ("clinician", "endoscopist"),
        ("equipment", "colonoscope"),
        ("room", "endoscopy"),
    ]
    preparations = colonoscopy.preparations.values_list("title", "timing", "days_before")
    assert list(preparations) == [
        ("Svar på MRSA-skjemaet", "deadline", 14),
        ("Tøm tarmen", "start", 7),
        ("Fyll ut medisinlisten", "deadline", 5),
    ]
    assert (colonoscopy.duration_minutes, colonoscopy.buffer_after_minutes) == (60, 15)
    sensitive = AppointmentType.objects.get(patient_facing_name="Samtale")
    assert not sensitive.self_bookable


def test_the_patients_are_valid_and_the_proxies_are_in_force_today():
    load_demo_data()

    for patient in Patient.objects.all():
        patient.full_clean()
    assert Patient.objects.count() == 7
    assert Patient.objects.filter(user__isnull=False).count() == 5
    assert Patient.objects.filter(uses_digital_services=False).count() == 1
    valid = Proxy.objects.valid_now()
    assert valid.get(holder__user__username="kari").kind == ProxyKind.PARENT
    assert valid.get(holder__user__username="anne").kind == ProxyKind.POWER_OF_ATTORNEY
    assert get_user_model().objects.get(username="kari").check_password("demo1234")


def test_the_appointments_hold_their_resources_without_double_booking():
    load_demo_data()

    appointments = Appointment.objects.select_related("appointment_type")
    assert appointments.count() == 10
    for appointment in appointments:
        assert appointment.starts_at > timezone.now()
        assert timezone.localtime(appointment.starts_at).weekday() < 5
        assert appointment.allocations.count() == appointment.appointment_type.requirements.count()
        assert appointment.events.count() == 1
    assert (
        PreparationTask.objects.count()
        == 3 * appointments.filter(appointment_type__name="Koloskopi").count()
    )
    assert PreparationTask.objects.filter(done_at__isnull=False).count() == 1
    by_resource = defaultdict(list)
    for allocation in Allocation.objects.order_by("starts_at"):
        by_resource[allocation.resource_id].append(allocation)
    for allocations in by_resource.values():
        for earlier, later in pairwise(allocations):
            assert earlier.ends_at <= later.starts_at


def test_running_it_twice_creates_nothing_new():
    load_demo_data()
    before = counts()

    output = load_demo_data()

    assert counts() == before
    assert "already exists" in output
    assert "sekretaer" in output


@time_machine.travel(datetime(2027, 3, 12, 9, 0, tzinfo=UTC), tick=False)
def test_it_books_across_the_change_to_summer_time_and_easter():
    load_demo_data()

    for appointment in Appointment.objects.all():
        local = timezone.localtime(appointment.starts_at)
        assert local.minute % appointment.appointment_type.grid_minutes == 0
        assert 8 <= local.hour < 16
        assert not is_holiday(local.date())


def test_it_creates_an_open_and_an_overdue_booking_task():
    from planning.models import BookingTask, BookingTaskStatus

    with time_machine.travel(datetime(2027, 1, 4, 8, 0, tzinfo=UTC), tick=False):
        out = load_demo_data()
        today = timezone.localdate()
        tasks = {t.patient.given_name: t for t in BookingTask.objects.select_related("patient")}
    assert set(tasks) == {"Emil", "Nils"}
    assert all(t.status == BookingTaskStatus.OPEN for t in tasks.values())
    assert tasks["Emil"].respond_by > today > tasks["Nils"].respond_by
    assert tasks["Emil"].referral is not None
    assert "2 booking tasks" in out
