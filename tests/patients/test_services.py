"""The one service that creates patients checks the national identity number in full; the
database refuses anything that is not eleven ASCII digits, however it is written."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from patients.models import Patient
from patients.services import patient_register
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_patient_is_registered_with_the_date_of_birth_from_the_number():
    patient = patient_register(national_id="15076500565", given_name="Ola", family_name="Hansen")
    assert str(patient.birth_date) == "1965-07-15"


@pytest.mark.parametrize(
    "number",
    ["15076500566", "1507650056", "01013550022", "١٥٠٧٦٥٠٠٥٦٥"],
    ids=["check digit", "ten digits", "born in 2035", "Arabic-Indic digits"],
)
def test_a_bad_number_is_refused_and_nothing_is_written(number):
    with pytest.raises(ValidationError) as refused:
        patient_register(national_id=number, given_name="Ola", family_name="Hansen")
    assert "national_id" in refused.value.message_dict
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    "number", ["1507650056", "١٥٠٧٦٥٠٠٥٦٥", "１５０７６５００５６５"], ids=["10", "Arabic", "wide"]
)
def test_the_database_refuses_a_number_of_the_wrong_shape_written_past_the_service(number):
    patient = factories.PatientFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(national_id=number)
