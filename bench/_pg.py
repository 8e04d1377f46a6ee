"""What the PostgreSQL benchmarks share: a throw-away database of the bench's own (DATABASE_URL
checked, dropped and created anew, production-like settings), the overlap check, and reporting."""

from __future__ import annotations

import os
import secrets
import sys
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# Pairs of allocations of one resource at overlapping times: must always count 0.
OVERLAPPING_ALLOCATIONS_SQL = """
    SELECT count(*)
    FROM booking_allocation a
    JOIN booking_allocation b
      ON b.resource_id = a.resource_id
     AND b.id > a.id
     AND tstzrange(b.starts_at, b.ends_at, '[)') && tstzrange(a.starts_at, a.ends_at, '[)')
"""


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated between the nearest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = q / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def shown_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return urlunsplit(
            parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
        )
    return url


def use_bench_database(db_name: str, script: str, allowed_host: str = "127.0.0.1") -> str:
    """Re-create `db_name` on DATABASE_URL's server and use it; returns the original URL."""
    import environ

    url = os.environ.get("DATABASE_URL", "")
    server: dict[str, Any] = environ.Env.db_url_config(url) if url else {}
    if server.get("ENGINE") != "django.db.backends.postgresql":
        sys.exit(
            f"{script} measures PostgreSQL only; run it as\n"
            f"  DATABASE_URL=postgres://postgres@127.0.0.1:5432/timevalg python {script}\n"
            f"(it creates and drops its own database {db_name!r} on that server)."
        )
    _recreate(server, db_name)
    os.environ.update(
        {
            "DATABASE_URL": urlunsplit(urlsplit(url)._replace(path=f"/{db_name}")),
            "DJANGO_DEBUG": "false",  # no query log in connection.queries, like production
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_ALLOWED_HOSTS": allowed_host,
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    return url


def _recreate(server: dict[str, Any], db_name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=server.get("HOST") or None,
        port=server.get("PORT") or None,
        user=server.get("USER") or None,
        password=server.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        name = sql.Identifier(db_name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
