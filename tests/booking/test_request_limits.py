"""Requests too large for the server get the API's JSON answer with the status the limit
deserves, read to the end so the client, still sending, receives it; and the server's limits
agree with the schema's (a batch plan may name 5,000 tasks, in JSON or in a form)."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests import factories

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def staff(clock, clinic):
    api = APIClient(raise_request_exception=False)
    api.force_login(factories.StaffFactory.create(clinic=clinic).user)
    return api


def batch_plan(api, clinic, body, content_type):
    return api.generic(
        "POST",
        f"/api/v1/staff/clinics/{clinic.pk}/batch-plans/",
        body,
        content_type=content_type,
        headers={"Accept-Language": "en"},
    )


def test_a_body_of_five_megabytes_is_413_in_json(staff, clinic):
    body = json.dumps({"task_ids": [1], "pad": "x" * 5_000_000})
    response = batch_plan(staff, clinic, body, "application/json")
    assert response.status_code == 413
    assert response.json() == {
        "code": "request_too_large",
        "detail": "The request is too large: at most 2.5 MB.",
    }


def test_a_form_with_as_many_task_ids_as_the_schema_allows_is_read(staff, clinic):
    form = "&".join(f"task_ids={i}" for i in range(1, 5001))
    response = batch_plan(staff, clinic, form, "application/x-www-form-urlencoded")
    assert response.status_code == 422  # read in full: none of those tasks exists
    assert response.json()["code"] == "nothing_to_plan"


def test_a_form_with_more_fields_than_the_server_takes_is_400_in_json(staff, clinic):
    form = "&".join(f"task_ids={i}" for i in range(1, 6001))
    response = batch_plan(staff, clinic, form, "application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_fields"


def test_an_unknown_api_url_is_a_json_404(staff):
    response = staff.get("/api/v1/booking-tasks/-1/offers/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.fixture
def gunicorn(tmp_path):
    """The app served by gunicorn, as in production (a sync worker closes the connection after
    each answer: an unread body would reset it under the client's feet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "REDIS_URL": "",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield port
    server.terminate()
    server.wait(timeout=30)


@pytest.mark.django_db(False)
def test_the_answer_to_a_body_too_large_reaches_a_client_still_sending_it(gunicorn):
    body = json.dumps({"username": "x", "password": "y", "pad": "x" * 5_000_000}).encode()
    for _ in range(3):
        connection = http.client.HTTPConnection("127.0.0.1", gunicorn, timeout=30)
        connection.request(
            "POST",
            "/api/v1/auth/login/",
            body=body,
            headers={"Content-Type": "application/json", "Accept-Language": "en"},
        )
        answer = connection.getresponse()
        assert answer.status == 413
        assert json.loads(answer.read())["code"] == "request_too_large"
