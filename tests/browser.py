"""What the browser tests share besides the `chromium` fixture (tests/conftest.py): the sizes
they look at, the browser's flags, and where their screenshots go."""

from pathlib import Path

from playwright.sync_api import ViewportSize

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
PASSWORD = "pw-for-tests"
PHONE: ViewportSize = {"width": 375, "height": 800}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
