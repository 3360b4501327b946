"""Find a Chromium for the browser tests, the way a contributor would have one.

Usage: ``python tools/find_chromium.py`` prints the browser's path, or one line that
says how to get one and exits with status 1.

The order of the search:

1. the ``CHROMIUM`` environment variable (a path, or a command on ``PATH``);
2. Debian's ``chromium`` package (``/usr/bin/chromium``);
3. ``chromium``, ``chromium-browser`` or ``google-chrome`` on ``PATH``;
4. Playwright's own Chromium, if ``playwright install chromium`` has fetched one.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
#: How every tool and test starts it: headless, and quiet on a machine without network
#: (without the background-networking flags it keeps trying to reach outside hosts).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ON_PATH = ("chromium", "chromium-browser", "google-chrome")
HOW_TO_GET_ONE = (
    "no Chromium found for the browser tests: install Debian's package "
    "(apt-get install chromium), put chromium or google-chrome on PATH, set "
    "CHROMIUM=/path/to/chrome, or run `.venv/bin/playwright install chromium`"
)


def _executable(candidate: str | os.PathLike[str]) -> Path | None:
    path = Path(candidate)
    if path.is_file() and os.access(path, os.X_OK):
        return path
    found = shutil.which(str(candidate))
    return Path(found) if found else None


def _playwright_chromium() -> Path | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as playwright:
            path = Path(playwright.chromium.executable_path)
    except Exception:  # no driver or no browser fetched: nothing to offer
        return None
    return path if path.is_file() else None


def find_chromium() -> Path | None:
    """The first Chromium found in the documented order, or ``None``."""
    wanted = os.environ.get("CHROMIUM")
    if wanted:
        return _executable(wanted)
    for candidate in (DEBIAN_CHROMIUM, *ON_PATH):
        found = _executable(candidate)
        if found is not None:
            return found
    return _playwright_chromium()


def main() -> int:
    found = find_chromium()
    if found is None:
        wanted = os.environ.get("CHROMIUM")
        print(f"CHROMIUM={wanted} is not an executable" if wanted else HOW_TO_GET_ONE)
        return 1
    print(found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
