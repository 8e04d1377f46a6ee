"""What the booking migrations share (Django's loader skips modules whose names start with _)."""

from collections.abc import Callable
from typing import Any


def on_postgres(sql: str) -> Callable[[Any, Any], None]:
    """A RunPython function that runs `sql` on PostgreSQL and does nothing elsewhere (the
    triggers it creates guard what SQLite's services check in Python)."""

    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run
