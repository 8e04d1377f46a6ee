"""Rows for tests. Times are aware; the clinic works Mon-Fri 08:00-16:00 Europe/Oslo."""

import itertools
from datetime import date, time

import factory
from django.contrib.auth.models import User

from access.roles import StaffRole
from booking.models import (
    AppointmentType,
    Clinic,
    Resource,
    ResourceKind,
    ResourceRequirement,
    StaffMembership,
    WorkingHours,
)
from patients.identity import with_check_digits
from patients.models import Patient, Proxy, ProxyKind

_serial = itertools.count(100)


def national_id(born: date) -> str:
    """A valid fødselsnummer for `born` (individual numbers 000-499 mean the 1900s)."""
    while True:
        individual = next(_serial) % 1000
        if born.year >= 2000:
            individual = 500 + individual % 400
        elif individual > 499:
            continue
        number = with_check_digits(f"{born:%d%m%y}{individual:03d}")
        if number is not None:
            return number


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests")


class PatientFactory(factory.django.DjangoModelFactory[Patient]):
    class Meta:
        model = Patient

    class Params:
        born = date(1980, 5, 17)

    user = factory.SubFactory(UserFactory)
    national_id = factory.LazyAttribute(lambda o: national_id(o.born))
    given_name = "Kari"
    family_name = factory.Sequence(lambda n: f"Nordmann{n}")
    phone = "+4791234567"


class ProxyFactory(factory.django.DjangoModelFactory[Proxy]):
    class Meta:
        model = Proxy

    holder = factory.SubFactory(PatientFactory)
    subject = factory.SubFactory(PatientFactory, user=None, born=date(2016, 3, 1))
    kind = ProxyKind.PARENT
    valid_from = date(2020, 1, 1)


class ClinicFactory(factory.django.DjangoModelFactory[Clinic]):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Poliklinikk {n}")
    time_zone = "Europe/Oslo"


class StaffFactory(factory.django.DjangoModelFactory[StaffMembership]):
    class Meta:
        model = StaffMembership

    user = factory.SubFactory(UserFactory)
    clinic = factory.SubFactory(ClinicFactory)
    role = StaffRole.SECRETARY


class ResourceFactory(factory.django.DjangoModelFactory[Resource]):
    class Meta:
        model = Resource

    clinic = factory.SubFactory(ClinicFactory)
    kind = ResourceKind.CLINICIAN
    name = factory.Sequence(lambda n: f"Resource {n}")
    tags = factory.LazyFunction(list)


class WorkingHoursFactory(factory.django.DjangoModelFactory[WorkingHours]):
    class Meta:
        model = WorkingHours

    resource = factory.SubFactory(ResourceFactory)
    weekday = 0
    start_time = time(8, 0)
    end_time = time(16, 0)
    valid_from = date(2020, 1, 1)


class AppointmentTypeFactory(factory.django.DjangoModelFactory[AppointmentType]):
    class Meta:
        model = AppointmentType

    clinic = factory.SubFactory(ClinicFactory)
    name = "Kontroll"
    duration_minutes = 30
    grid_minutes = 15
    self_bookable = True
    min_notice_hours = 24
    booking_horizon_days = 90
    change_cutoff_hours = 48
    max_patient_changes = 2


def weekday_resource(
    clinic: Clinic,
    kind: str = ResourceKind.CLINICIAN,
    tags: list[str] | None = None,
    start: time = time(8, 0),
    end: time = time(16, 0),
) -> Resource:
    """A resource working Monday to Friday, start to end."""
    resource = ResourceFactory.create(clinic=clinic, kind=kind, tags=tags or [])
    for weekday in range(5):
        WorkingHoursFactory.create(
            resource=resource, weekday=weekday, start_time=start, end_time=end
        )
    return resource


def requirement(
    appointment_type: AppointmentType, kind: str, tag: str = "", count: int = 1
) -> None:
    ResourceRequirement.objects.create(
        appointment_type=appointment_type, kind=kind, tag=tag, count=count
    )
