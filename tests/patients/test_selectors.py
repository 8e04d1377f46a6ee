"""The patient side of the access policy: a user acts for their own record and for everyone
they hold a proxy for that is valid today. The test clock is Monday 2027-01-04."""

from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser

from access.errors import NotFound
from patients.models import ProxyKind
from patients.selectors import acts_for_self, patient_for, patients_for_user, proxy_subjects
from tests import factories
from tests.conftest import OSLO

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

TODAY = date(2027, 1, 4)


@pytest.fixture
def holder():
    return factories.PatientFactory.create()


def proxy(holder, **fields):
    """A power of attorney from holder over a new adult, or a parent's proxy with kind and
    born given."""
    born = fields.pop("born", date(1940, 2, 2))
    subject = factories.PatientFactory.create(user=None, born=born)
    fields.setdefault("kind", ProxyKind.POWER_OF_ATTORNEY)
    return factories.ProxyFactory.create(holder=holder, subject=subject, **fields).subject


PROXIES = {
    "a power of attorney": ({}, True),
    "a parent's for a child of 10": ({"kind": ProxyKind.PARENT, "born": date(2016, 3, 1)}, True),
    "a parent's for a child who turned 16 yesterday": (
        {"kind": ProxyKind.PARENT, "born": date(2011, 1, 3)},
        False,
    ),
    "one that ended yesterday": ({"valid_until": TODAY - timedelta(days=1)}, False),
    "one that ends today": ({"valid_until": TODAY}, True),
    "one that starts tomorrow": ({"valid_from": TODAY + timedelta(days=1)}, False),
    "a revoked one": ({"revoked_at": datetime(2027, 1, 2, 12, tzinfo=OSLO)}, False),
}


@pytest.mark.parametrize(("fields", "valid"), PROXIES.values(), ids=PROXIES.keys())
def test_a_proxy_gives_its_subject_only_while_it_is_valid(holder, fields, valid):
    subject = proxy(holder, **fields)

    assert (subject in patients_for_user(holder.user)) is valid
    assert (subject in proxy_subjects(user=holder.user)) is valid
    if valid:
        assert patient_for(user=holder.user, patient_id=subject.pk) == subject
        assert not acts_for_self(user=holder.user, patient=subject)
    else:
        with pytest.raises(NotFound):
            patient_for(user=holder.user, patient_id=subject.pk)


def test_a_user_acts_for_their_own_record_with_or_without_its_id(holder):
    assert patient_for(user=holder.user) == holder
    assert patient_for(user=holder.user, patient_id=holder.pk) == holder
    assert acts_for_self(user=holder.user, patient=holder)
    assert list(patients_for_user(holder.user)) == [holder]
    assert not proxy_subjects(user=holder.user).exists()


def test_someone_else_and_an_id_that_does_not_exist_are_the_same_not_found(holder):
    stranger = factories.PatientFactory.create()
    for patient_id in (stranger.pk, 10**9):
        with pytest.raises(NotFound):
            patient_for(user=holder.user, patient_id=patient_id)


def test_a_user_without_a_patient_record_acts_for_no_one():
    staff_user = factories.StaffFactory.create().user
    with pytest.raises(NotFound):
        patient_for(user=staff_user)
    assert not patients_for_user(staff_user).exists()


def test_the_anonymous_user_acts_for_no_one(holder):
    anonymous = AnonymousUser()
    with pytest.raises(NotFound):
        patient_for(user=anonymous, patient_id=holder.pk)
    assert not patients_for_user(anonymous).exists()
    assert not proxy_subjects(user=anonymous).exists()
