"""How a notice reaches the patient: SMS through a pluggable backend (settings name it), e-mail
through Django's e-mail backends.

A backend's `send` returns when the message is accepted. It raises PermanentFailure when trying
again cannot help (a refused number or address); any other exception is taken as passing (a
timeout, a gateway down) and the dispatcher tries again later.
"""

import base64
import http.client
import json
import smtplib
import socket
import sys
import threading
from dataclasses import asdict, dataclass
from typing import Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Message:
    reference: str  # the notification's id: a delivery report names it
    recipient: str
    subject: str
    text: str


class PermanentFailure(Exception):
    """Sending this message again will not succeed."""


class Backend(Protocol):
    def send(self, message: Message) -> None: ...


def close(backend: Backend) -> None:
    """Let a backend that keeps a connection open close it."""
    closing = getattr(backend, "close", None)
    if closing is not None:
        closing()


class ConsoleSms:
    """Writes each SMS as a line of JSON to NOTIFICATIONS_SMS_FILE, or to standard output
    without one: for development and tests."""

    _lock = threading.Lock()

    def send(self, message: Message) -> None:
        line = json.dumps(asdict(message), ensure_ascii=False) + "\n"
        path = settings.NOTIFICATIONS_SMS_FILE
        with self._lock:
            if path:
                with open(path, "a", encoding="utf-8") as file:
                    file.write(line)
            else:
                sys.stdout.write(line)


# A gateway's refusals that sending again cannot change (bad number, bad request); 408 and 429
# ask to come back later, like every 5xx.
_RETRYABLE_CLIENT_ERRORS = {408, 425, 429}


class HttpGatewaySms:
    """An SMS gateway in the shape of the Norwegian ones: a JSON POST of sender, recipient,
    text and our reference to NOTIFICATIONS_SMS_GATEWAY_URL, with basic auth. One backend
    keeps its connection open for the messages of one dispatcher's batch."""

    def __init__(self) -> None:
        self._url = urlsplit(settings.NOTIFICATIONS_SMS_GATEWAY_URL)
        credentials = (
            f"{settings.NOTIFICATIONS_SMS_GATEWAY_USER}:"
            f"{settings.NOTIFICATIONS_SMS_GATEWAY_PASSWORD}"
        )
        self._headers = {
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode(),
        }
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = (
                http.client.HTTPSConnection
                if self._url.scheme == "https"
                else http.client.HTTPConnection
            )
            connection = kind(
                self._url.hostname or "",
                self._url.port,
                timeout=settings.NOTIFICATIONS_SMS_GATEWAY_TIMEOUT_S,
            )
            connection.connect()
            # http.client sends the headers and the body in two writes: without this the
            # body waits for the gateway's delayed acknowledgement (40 ms on Linux).
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._connection = connection
        return self._connection

    def send(self, message: Message) -> None:
        body = json.dumps(
            {
                "sender": settings.NOTIFICATIONS_SMS_SENDER,
                "recipient": message.recipient,
                "text": message.text,
                "reference": message.reference,
            }
        )
        path = self._url.path or "/"
        if self._url.query:
            path += "?" + self._url.query
        try:
            connection = self._connect()
            connection.request("POST", path, body=body.encode(), headers=self._headers)
            response = connection.getresponse()
            response.read()
        except Exception:
            self.close()  # a broken connection is not used again
            raise
        if response.will_close:
            self.close()
        status = response.status
        if 200 <= status < 300:
            return
        if 400 <= status < 500 and status not in _RETRYABLE_CLIENT_ERRORS:
            raise PermanentFailure(f"gateway refused: HTTP {status}")
        raise ConnectionError(f"gateway answered HTTP {status}")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class DjangoEmail:
    """E-mail through Django's EMAIL_BACKEND (SMTP in production)."""

    def send(self, message: Message) -> None:
        email = EmailMessage(
            subject=message.subject,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            headers={"X-Notification-Reference": message.reference},
            connection=get_connection(fail_silently=False),
        )
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure("the mail server refused the address") from exc


def backend_for(channel: str) -> Backend:
    """The backend the settings name for the channel ("sms" or "email")."""
    path = {
        "sms": settings.NOTIFICATIONS_SMS_BACKEND,
        "email": settings.NOTIFICATIONS_EMAIL_BACKEND,
    }[channel]
    backend: Backend = import_string(path)()
    return backend
