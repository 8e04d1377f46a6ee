"""Channel backends for tests: one that keeps what it is given, one that always fails."""

import threading
import time

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


class Slow:
    """Keeps what it is given, taking a moment over each: dispatchers running at once overlap."""

    def send(self, message: Message) -> None:
        time.sleep(0.002)
        Recording().send(message)


class Held:
    """Blocks in send until the test lets it go."""

    entered = threading.Event()
    release = threading.Event()

    def send(self, message: Message) -> None:
        Held.entered.set()
        Held.release.wait(timeout=20)
        Recording().send(message)
