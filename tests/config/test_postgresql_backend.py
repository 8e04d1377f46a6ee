"""config.postgresql: Django's per-request health check without its round trip."""

import select
import time
from typing import cast
from unittest import mock

import psycopg
import pytest
from django.db import connections, transaction

from config.postgresql.base import DatabaseWrapper

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def wrapper() -> DatabaseWrapper:
    return cast(DatabaseWrapper, connections["default"])


DJANGOS_CHECK = "django.db.backends.postgresql.base.DatabaseWrapper.is_usable"


def start_of_request():
    """Where Django stands at a request's first query, with the connection kept."""
    wrapper().ensure_connection()
    wrapper().health_check_enabled = True
    wrapper().health_check_done = False


def backend_pid():
    with wrapper().cursor() as db:
        db.execute("SELECT pg_backend_pid()")
        return db.fetchone()[0]


def test_a_kept_idle_connection_is_taken_as_healthy_without_a_round_trip():
    start_of_request()
    with mock.patch(DJANGOS_CHECK, side_effect=AssertionError("SELECT 1 was sent")):
        wrapper().close_if_health_check_failed()

    assert wrapper().health_check_done
    assert backend_pid()


def test_a_connection_the_server_ended_is_replaced_before_the_next_query():
    start_of_request()
    ended = backend_pid()
    settings = wrapper().settings_dict
    with psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or None,
        user=settings["USER"],
        dbname=settings["NAME"],
        password=settings["PASSWORD"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [ended])
    wait_until_readable(wrapper().connection.fileno())
    wrapper().health_check_done = False

    assert backend_pid() != ended


def wait_until_readable(fd, seconds=5.0):
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    deadline = time.monotonic() + seconds
    while not poller.poll(50):
        assert time.monotonic() < deadline, "the server's last message never came"


def test_a_connection_inside_a_transaction_gets_djangos_full_check():
    start_of_request()
    with transaction.atomic():
        backend_pid()  # the transaction begins on the server
        wrapper().health_check_done = False
        with mock.patch(DJANGOS_CHECK, return_value=True) as djangos_check:
            wrapper().close_if_health_check_failed()

    djangos_check.assert_called_once()
