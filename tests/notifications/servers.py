"""Real servers on loopback for the channels: an SMS gateway (http.server in a thread) that
counts what it receives, and an SMTP server (aiosmtpd)."""

import base64
import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Gateway:
    url: str
    user: str
    password: str
    received: list[dict[str, Any]] = field(default_factory=list)
    # Answer this status to the next `failures` requests (then 200).
    failures: int = 0
    failure_status: int = 503

    @property
    def by_reference(self) -> Counter[str]:
        return Counter(message["reference"] for message in self.received)


def _handler(gateway: Gateway, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    expected = "Basic " + base64.b64encode(f"{gateway.user}:{gateway.password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Authorization") != expected:
                return self._answer(401)
            with lock:
                if gateway.failures:
                    gateway.failures -= 1
                    return self._answer(gateway.failure_status)
                gateway.received.append(json.loads(body))
            return self._answer(200, b'{"status": "accepted"}')

        def _answer(self, status: int, body: bytes = b"{}") -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def sms_gateway(user: str = "timevalg", password: str = "s3cret") -> Iterator[Gateway]:
    gateway = Gateway(url="", user=user, password=password)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gateway, threading.Lock()))
    server.daemon_threads = True
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.original_content))
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[Message]]]:
    mailbox = _Mailbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks itself on the port it is given)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller.port, mailbox.messages
    finally:
        controller.stop()
