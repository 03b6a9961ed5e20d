"""Looking at the gallery as a person would: every page opened in headless Chromium, a full-page
screenshot saved, and every problem a visitor would meet reported (an image that does not load,
a console error, an uncaught exception, a request that fails).

Chromium is driven through the DevTools protocol over a pipe (`--remote-debugging-pipe`: JSON
messages ending in NUL on file descriptors 3 and 4 of the browser), so nothing beyond the
standard library and Debian's `chromium` package is needed, and no port is opened.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from emergent.errors import UserError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
WIDTH = 1400
"""CSS pixels of the window the pages are drawn in."""
LOAD_TIMEOUT = 30.0
"""Seconds a page may take to load (its images included)."""
BROKEN_IMAGES = (
    "JSON.stringify(Array.from(document.images)"
    ".filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src')))"
)


def find_browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise UserError(
        "gallery --screenshots needs Chromium; install it (Debian: `apt-get install chromium`)"
    )


class Browser:
    """One headless Chromium and one tab, spoken to over the DevTools pipe."""

    def __init__(self, executable: str | None = None) -> None:
        self.profile = tempfile.mkdtemp(prefix="emergent-chromium-")
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()

        def wire() -> None:  # in the child: the protocol's descriptors 3 (in) and 4 (out)
            commands, replies = os.dup(commands_read), os.dup(replies_write)  # out of the way
            os.dup2(commands, 3)  # dup2 leaves 3 and 4 inheritable; every other fd closes
            os.dup2(replies, 4)

        self.process = subprocess.Popen(
            [executable or find_browser(), "--headless", "--no-sandbox", "--disable-gpu",
             "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
             "--hide-scrollbars", "--no-first-run", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire, close_fds=False,
        )  # fmt: skip
        os.close(commands_read)
        os.close(replies_write)
        self._buffer, self._next_id, self.events = b"", 0, []
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t["targetId"] for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            self.call("Browser.close")
        for fd in (self._commands, self._replies):
            with contextlib.suppress(OSError):
                os.close(fd)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the protocol ------------------------------------------------------------------------

    def call(self, method: str, session: bool = False, **params: object) -> dict:
        """Send one command and wait for its reply; events that arrive meanwhile are kept."""
        self._next_id += 1
        message: dict = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read(LOAD_TIMEOUT)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            self.events.append(reply)

    def _read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise RuntimeError("Chromium did not answer in time")
            chunk = os.read(self._replies, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed its pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def wait_for(self, method: str, timeout: float = LOAD_TIMEOUT) -> None:
        """Wait until event `method` has arrived (kept in `events`)."""
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no {method} within {timeout:.0f} s")
            self.events.append(self._read(deadline - time.monotonic()))

    # -- what a visitor meets ----------------------------------------------------------------

    def visit(self, url: str, screenshot: Path) -> list[str]:
        """Open `url`, save a full-page PNG, and return the problems found on the page."""
        self.events = []
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=WIDTH, height=900,
                  deviceScaleFactor=1, mobile=False)  # fmt: skip
        self.call("Page.navigate", session=True, url=url)
        self.wait_for("Page.loadEventFired")
        broken = json.loads(
            self.call(
                "Runtime.evaluate", session=True, expression=BROKEN_IMAGES, returnByValue=True
            )["result"]["value"]  # fmt: skip
        )
        height = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]["height"]
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=WIDTH,
                  height=int(min(max(height, 600), 16_000)), deviceScaleFactor=1,
                  mobile=False)  # fmt: skip
        shot = self.call("Page.captureScreenshot", session=True, format="png")
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        return [f"image does not load: {src}" for src in broken] + problems(self.events)


def problems(events: list[dict]) -> list[str]:
    """Console errors, uncaught exceptions, failed requests and error log entries."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            found.append(f"console error: {text}")
        elif method == "Runtime.exceptionThrown":
            found.append(f"uncaught: {params['exceptionDetails'].get('text', '')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            found.append(f"error: {entry.get('text', '')} {entry.get('url', '')}".strip())
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            found.append(f"request failed: {params.get('errorText', '')}")
    return found


def check_site(site: Path, screenshots: Path, executable: str | None = None) -> list[str]:
    """Every page of the site in headless Chromium: '<page>: <problem>' lines (none: the site
    reads as it should); a screenshot of each page in `screenshots/<page>.png`."""
    screenshots.mkdir(parents=True, exist_ok=True)
    found = []
    with Browser(executable) as browser:
        for page in sorted(site.glob("*.html")):
            shot = screenshots / f"{page.stem}.png"
            found += [f"{page.name}: {p}" for p in browser.visit(page.resolve().as_uri(), shot)]
    return found
