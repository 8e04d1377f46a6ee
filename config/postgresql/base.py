"""Django's PostgreSQL backend, with the booking path's statements planned once and the
per-request health check done without a round trip when it can be.

Django binds query parameters on the client by default, so PostgreSQL parses and plans every
statement anew. For the few statements a booking sends thousands of times an hour that is a
third of PostgreSQL's work: planning the free-resources query alone costs half a millisecond.
`prepared_cursor()` binds on the server instead, so psycopg prepares a statement once it has
run five times on a connection (unless DB_PREPARED_STATEMENTS is false), and PostgreSQL reuses
the plan from then on. Every other query keeps Django's default cursor.
"""

from __future__ import annotations

import select
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from django.db.backends.utils import CursorWrapper
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    # Set by Django's BaseDatabaseWrapper; django-stubs leaves them out.
    health_check_enabled: bool
    health_check_done: bool

    def prepared_cursor(self) -> CursorWrapper:
        """A cursor that binds parameters on the server, so that its statements can be prepared.
        Their parameters must have types PostgreSQL can infer from the SQL around them.

        Django's own cursor, made while the connection hands out server-binding cursors: the
        time zone, the wrapping and the query log stay Django's."""
        self.close_if_health_check_failed()  # first: it may replace the connection
        self.ensure_connection()
        client_binding = self.connection.cursor_factory
        self.connection.cursor_factory = psycopg.Cursor
        try:
            return self.cursor()
        finally:
            self.connection.cursor_factory = client_binding

    def close_if_health_check_failed(self) -> None:
        """Django's check, at a request's first query, that a kept connection still works.

        Django sends `SELECT 1` for it: one more round trip on every request. A server that ends
        a connection (a restart, a crash, pg_terminate_backend, a timeout) sends a last message
        or closes the socket, so an idle connection with nothing waiting to be read is still
        there, and needs no round trip. Anything waiting gets Django's full check.
        """
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.pool
            and self._idle_and_quiet()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _idle_and_quiet(self) -> bool:
        connection: psycopg.Connection[Any] = self.connection
        if connection.closed or connection.info.transaction_status != TransactionStatus.IDLE:
            return False
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN)
        return not poller.poll(0)
