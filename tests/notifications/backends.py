"""Channel backends for tests: one that keeps what it is given, one that always fails."""

import threading

from notifications.channels import Message, PermanentFailure


class Recording:
    sent: list[Message] = []
    lock = threading.Lock()

    def send(self, message: Message) -> None:
        with self.lock:
            Recording.sent.append(message)


class Failing:
    attempts = 0

    def send(self, message: Message) -> None:
        Failing.attempts += 1
        raise ConnectionError("the gateway is down")


class Refusing:
    def send(self, message: Message) -> None:
        raise PermanentFailure("no such number")
