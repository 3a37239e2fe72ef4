"""A minimal headless-Chromium client over the DevTools protocol (no extra package).

Chromium is started with ``--remote-debugging-pipe``: it reads NUL-terminated
JSON commands on file descriptor 3 and writes replies and events on 4. Nothing
is injected into the pages: measurements go through ``Runtime.evaluate`` and
console messages, exceptions and Content-Security-Policy violations are
collected from the protocol's events.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-default-apps", "--disable-extensions", "--disable-dev-shm-usage",
    "--hide-scrollbars", "--mute-audio", "--remote-debugging-pipe",
)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Every element's box against the viewport; the page's own overflow.
MEASURE = """JSON.stringify((() => {
  const vw = document.documentElement.clientWidth;
  const wide = [];
  for (const e of document.querySelectorAll('body, body *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > vw + 0.5 || r.left < -0.5) {
      wide.push(`${e.tagName.toLowerCase()}.${e.getAttribute('class') || ''} `
                + `${Math.round(r.left)}..${Math.round(r.right)}`);
    }
  }
  return {viewport: vw, scrollWidth: document.documentElement.scrollWidth,
          bodyScrollWidth: document.body.scrollWidth, wide: wide.slice(0, 12),
          wideCount: wide.length};
})())"""


def _above_nine(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


def find_chromium() -> str | None:
    explicit = os.environ.get("REGIMEN_CHROMIUM")
    if explicit:
        return explicit if shutil.which(explicit) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """One Chromium process, one tab, driven command by command."""

    def __init__(self, binary: str, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="regimen-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # the child's ends are renumbered to 3 and 4: move them above 9 first so that
        # neither is already 3 or 4 (one dup2 would overwrite the other)
        to_child_r, from_child_w = (_above_nine(to_child_r), _above_nine(from_child_w))
        log = os.environ.get("REGIMEN_CHROMIUM_LOG")
        self._log = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
        # a small launcher puts the pipe ends on descriptors 3 and 4, then becomes Chromium
        launcher = ("import os, sys; os.dup2(int(sys.argv[1]), 3); "
                    "os.dup2(int(sys.argv[2]), 4); os.execv(sys.argv[3], sys.argv[3:])")
        self.process = subprocess.Popen(
            [sys.executable, "-c", launcher, str(to_child_r), str(from_child_w), binary,
             *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self._log)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.call("Target.attachToTarget", targetId=target,
                                     flatten=True)["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Audits"):
                self.call(f"{domain}.enable")
        except BaseException:
            self.close()
            raise

    # -- protocol -----------------------------------------------------------------------

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply from Chromium")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 16)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self.session is not None and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        for index, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(index)
        while True:
            message = self._read_message(deadline)
            if message.get("method") == method:
                return message
            if "method" in message:
                self.events.append(message)

    # -- what the tests use -------------------------------------------------------------

    def load(self, path: Path, width: int, height: int = 900) -> dict[str, Any]:
        """Open ``path`` at ``width`` CSS pixels; return measurements and problems."""
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=width < 600)
        self.events.clear()
        self.call("Page.navigate", url=path.resolve().as_uri())
        self.wait_for("Page.loadEventFired")
        # let late console messages and CSP reports arrive
        self.call("Runtime.evaluate", expression="1", awaitPromise=True)
        measured = json.loads(self.call("Runtime.evaluate", expression=MEASURE,
                                        returnByValue=True)["result"]["value"])
        measured["problems"] = self.problems()
        return measured

    def problems(self) -> list[str]:
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                args = " ".join(str(a.get("value", a.get("description", "")))
                                for a in params.get("args", []))
                found.append(f"console.{params.get('type')}: {args}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params.get('exceptionDetails', {}).get('text')}")
            elif method == "Log.entryAdded":
                entry = params.get("entry", {})
                if entry.get("level") in ("error", "warning"):
                    found.append(f"log {entry.get('source')}/{entry.get('level')}: "
                                 f"{entry.get('text')}")
            elif method == "Audits.issueAdded":
                issue = params.get("issue", {})
                found.append(f"issue {issue.get('code')}: {json.dumps(issue.get('details'))}")
        return found

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._log is not subprocess.DEVNULL:
            self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)
