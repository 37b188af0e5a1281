"""A headless Chromium driven over the DevTools protocol, for tests/test_site_browser.py.

No browser-automation package is needed: Chromium started with
``--remote-debugging-pipe`` reads protocol commands (JSON, each ended by a NUL byte)
from file descriptor 3 and writes replies and events to descriptor 4, the transport
Playwright and Puppeteer use.  Only the protocol's stable domains are used (Target, Page,
Runtime, Log, Network, Emulation), so any Chromium of the last years works, with no
driver version to match.
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

# Flags for a machine without network or display: no GPU, no sandbox (CI runs as root),
# and no background traffic (component updates, sync, QUIC probes) that would fail or
# wait for a network that is not there.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio"]


def find_chromium():
    """The Chromium executable ($FUNCDIFF_CHROMIUM, else Debian's chromium on PATH), or
    None."""
    if os.environ.get("FUNCDIFF_CHROMIUM"):
        return os.environ["FUNCDIFF_CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _above_4(fd):
    """``fd`` moved to a descriptor numbered 5 or more (close-on-exec, as os.pipe's)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 5)
    os.close(fd)
    return moved


class BrowserError(RuntimeError):
    """The browser died, answered a command with an error, or did not answer in time."""


class Browser:
    """One headless Chromium with one page (a tab); ``open(url)`` loads a URL and returns
    what happened while it loaded (console errors, failed requests)."""

    def __init__(self, executable, width=1280, height=900, timeout=60.0):
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="funcdiff-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # the browser's ends, moved above 4: put on 3 and 4 in the child, neither may
        # already be one of them (dup2 onto itself would also keep close-on-exec)
        to_browser_r, from_browser_w = (_above_4(to_browser_r), _above_4(from_browser_w))

        def give_pipes():              # runs in the child before exec: fds 3 and 4
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        # the browser's own log goes to a file (a pipe nobody reads could fill and block
        # it), shown if it dies
        self._log = open(os.path.join(self._profile, "stderr.log"), "w+b")
        try:
            self._proc = subprocess.Popen(
                [executable, *FLAGS, f"--user-data-dir={self._profile}",
                 f"--window-size={width},{height}", "--remote-debugging-pipe",
                 "about:blank"],
                preexec_fn=give_pipes, close_fds=False, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=self._log)
        except OSError:
            for fd in (self._to_browser, self._from_browser):
                os.close(fd)
            self._log.close()
            shutil.rmtree(self._profile, ignore_errors=True)
            raise
        finally:
            os.close(to_browser_r)
            os.close(from_browser_w)
        self._buf = b""
        self._next_id = 0
        self._events = []              # (sessionId, method, params) not yet consumed
        try:
            target = self._call("Target.createTarget", url="about:blank")["targetId"]
            self._session = self._call("Target.attachToTarget", targetId=target,
                                       flatten=True)["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.call(f"{domain}.enable")
            self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                      deviceScaleFactor=1, mobile=False)
        except BaseException:
            self.close()
            raise

    # -- the protocol ------------------------------------------------------------------
    def _read_message(self, deadline):
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")[-2000:]
                raise BrowserError(f"Chromium exited (code {self._proc.poll()}):\n{err}")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _call(self, method, session=None, **params):
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._to_browser, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append((reply.get("sessionId"), reply["method"],
                                     reply.get("params", {})))

    def call(self, method, **params):
        """Send a command to the page and return its result."""
        return self._call(method, session=self._session, **params)

    def _wait_event(self, method, deadline):
        """Events up to and including the first ``method`` event of the page."""
        seen = []
        while True:
            if self._events:
                event = self._events.pop(0)
            else:
                msg = self._read_message(deadline)
                if "method" not in msg:
                    continue
                event = (msg.get("sessionId"), msg["method"], msg.get("params", {}))
            if event[0] == self._session:
                seen.append(event[1:])
                if event[1] == method:
                    return seen

    # -- what the tests use ------------------------------------------------------------
    def open(self, url, settle=0.3):
        """Load ``url`` and wait for its load event, then ``settle`` seconds more for
        scripts run after it.  Returns ``(errors, requests)``: console errors and
        uncaught exceptions as ``(text, url)`` (url: the resource or script concerned,
        "" if none is named), and every request the page made as ``{"url", "status",
        "failed"}`` (status None where no response came; failed: the network error, or
        None)."""
        self._events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + self.timeout
        events = self._wait_event("Page.loadEventFired", deadline)
        # a barrier after the settling time: every event sent before it has arrived
        time.sleep(settle)
        self.call("Runtime.evaluate", expression="0")
        events += [e[1:] for e in self._events if e[0] == self._session]
        self._events.clear()
        errors, requests = [], {}
        for method, p in events:
            if method == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                text = " ".join(str(a.get("value", a.get("description", "")))
                                for a in p["args"])
                errors.append((f"console.{p['type']}: {text}", ""))
            elif method == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                errors.append(("uncaught " + d.get("exception", {}).get(
                    "description", d.get("text", "")), d.get("url", "")))
            elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
                errors.append((p["entry"]["text"], p["entry"].get("url", "")))
            elif method == "Network.requestWillBeSent":
                requests[p["requestId"]] = {"url": p["request"]["url"], "status": None,
                                            "failed": None}
            elif method == "Network.responseReceived" and p["requestId"] in requests:
                requests[p["requestId"]]["status"] = p["response"]["status"]
            elif method == "Network.loadingFailed" and p["requestId"] in requests:
                requests[p["requestId"]]["failed"] = p["errorText"]
        return errors, list(requests.values())

    def evaluate(self, expression):
        """The value of a JavaScript expression on the page (JSON-serializable)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r} raised: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path, full_page=True):
        """Write a PNG of the page (the whole page, or the viewport) to ``path``."""
        params = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True, clip={
                "x": 0, "y": 0, "width": size["width"], "height": size["height"],
                "scale": 1})
        data = self.call("Page.captureScreenshot", **params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self):
        """End the browser (and only it) and remove its profile."""
        if self._proc.poll() is None:
            try:
                self._call("Browser.close")
            except (BrowserError, OSError):
                pass
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()
        shutil.rmtree(self._profile, ignore_errors=True)
