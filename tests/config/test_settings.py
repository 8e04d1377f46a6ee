"""The settings refuse to run in production mode without a real secret key and allowed hosts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REAL_KEY = "k" * 60


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean.update(DJANGO_ENV_FILE="/dev/null", DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings;"
            " print(settings.DEBUG, settings.ALLOWED_HOSTS)",
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
