"""The settings refuse to run in production mode without a real secret key and allowed hosts,
and pick the database backend from DATABASE_URL."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REAL_KEY = "k" * 60


SHOW_MODE = "print(settings.DEBUG, settings.ALLOWED_HOSTS)"


def load_settings(show: str = SHOW_MODE, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean.update(DJANGO_ENV_FILE="/dev/null", DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); from django.conf import settings; {show}",
        ],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "DJANGO_SECRET_KEY must be set"),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY must be set"),
        ({"DJANGO_SECRET_KEY": "django-insecure-" + "x" * 50}, "DJANGO_SECRET_KEY must be set"),
        ({"DJANGO_SECRET_KEY": REAL_KEY}, "DJANGO_ALLOWED_HOSTS must be set"),
    ],
)
def test_production_mode_refuses_to_start_half_configured(env, message):
    result = load_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_mode_starts_when_configured():
    result = load_settings(DJANGO_SECRET_KEY=REAL_KEY, DJANGO_ALLOWED_HOSTS="booking.example.no")
    assert (result.returncode, result.stdout.strip()) == (0, "False ['booking.example.no']")


def test_debug_mode_needs_nothing():
    assert load_settings(DJANGO_DEBUG="true").returncode == 0


SHOW_DATABASE = (
    "db = settings.DATABASES['default'];"
    " print(db['ENGINE'], db.get('OPTIONS', {}).get('prepare_threshold', '-'))"
)


@pytest.mark.parametrize(
    ("env", "shown"),
    [
        ({}, "config.postgresql 5"),
        ({"DB_PREPARED_STATEMENTS": "false"}, "config.postgresql None"),
    ],
)
def test_postgresql_gets_the_backend_that_prepares_the_booking_path(env, shown):
    url = "postgres://someone@db.example.no:5432/timevalg"
    result = load_settings(SHOW_DATABASE, DJANGO_DEBUG="true", DATABASE_URL=url, **env)
    assert (result.returncode, result.stdout.strip()) == (0, shown), result.stderr


def test_sqlite_keeps_djangos_backend():
    result = load_settings(SHOW_DATABASE, DJANGO_DEBUG="true", DATABASE_URL="sqlite:///x.db")
    assert result.stdout.strip() == "django.db.backends.sqlite3 -"


SHOW_REDIS = (
    "print(settings.CELERY_BROKER_URL, settings.CACHES['default'].get('LOCATION'),"
    " settings.SESSION_ENGINE.rsplit('.', 1)[1])"
)


@pytest.mark.parametrize(
    ("env", "shown"),
    [
        ({}, "memory:// None db"),
        (
            {"REDIS_URL": "redis://cache.example.no:6379/0"},
            "redis://cache.example.no:6379/0 redis://cache.example.no:6379/1 cached_db",
        ),
        (
            {"REDIS_URL": "redis://r:6379/4", "REDIS_CACHE_URL": "redis://c:6379/9"},
            "redis://r:6379/4 redis://c:6379/9 cached_db",
        ),
    ],
)
def test_the_cache_has_a_redis_database_of_its_own(env, shown):
    result = load_settings(SHOW_REDIS, DJANGO_DEBUG="true", **{"REDIS_URL": "", **env})
    assert (result.returncode, result.stdout.strip()) == (0, shown), result.stderr


def test_a_broker_on_the_last_redis_database_needs_a_cache_url():
    result = load_settings(SHOW_REDIS, DJANGO_DEBUG="true", REDIS_URL="redis://r:6379/15")
    assert result.returncode != 0
    assert "set REDIS_CACHE_URL" in result.stderr
