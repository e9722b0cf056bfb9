"""Headless Chromium (Debian's `chromium`) driven over the DevTools protocol, for page tests.

`open_page(url)` starts the browser by PID on a fresh profile, loads the page, and returns what
it saw: each image (loaded or not, its natural size), each link's HTTP status as the page's own
`fetch` gets it (HEAD, same origin), where the quicklook views are, and a full-page PNG
screenshot. No network but loopback.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--hide-scrollbars", "--window-size=1200,900"]

#: Runs in the page: images and links, each link fetched (HEAD) from the page's origin.
_PROBE = """(async () => {
  const images = [...document.images].map(i => ({alt: i.alt, complete: i.complete,
      width: i.naturalWidth, height: i.naturalHeight}));
  const links = [];
  for (const a of document.querySelectorAll('a[href]')) {
    let status;
    try { status = (await fetch(a.href, {method: 'HEAD'})).status; }
    catch (e) { status = String(e); }
    links.push({href: a.getAttribute('href'), url: a.href, status: status});
  }
  const views = [...document.querySelectorAll('.view')].map(v => {
    const r = v.getBoundingClientRect();
    return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]; });
  return JSON.stringify({title: document.title, images: images, links: links, views: views,
                         text: document.body.innerText});
})()"""


@dataclass
class PageView:
    title: str
    images: list[dict]
    links: list[dict]
    text: str
    screenshot: Path
    views: list[list[float]]  # page boxes (x, y, width, height) of the quicklook views


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("Debian's chromium is not installed (scripts/apt-packages.txt)")
    return found


@contextlib.contextmanager
def http_folder(folder: str | os.PathLike) -> Iterator[str]:
    """A loopback HTTP server over `folder`; yields its base URL."""
    handler = partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: D401 - silence the per-request lines
        pass


def open_page(url: str, screenshot: Path, timeout_s: float = 60.0) -> PageView:
    """Load `url` in headless Chromium; probe the page, save a full-page screenshot."""
    import websocket  # websocket-client

    profile = tempfile.mkdtemp(prefix="chromium-")
    process = subprocess.Popen(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
         "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port = _devtools_port(Path(profile), process, timeout_s)
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        page = next(t for t in targets if t.get("type") == "page")
        ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout_s,
                                         suppress_origin=True)
        try:
            session = _Session(ws)
            session.call("Page.enable")
            session.call("Page.navigate", url=url)
            session.wait_event("Page.loadEventFired", timeout_s)
            probe = session.call("Runtime.evaluate", expression=_PROBE, awaitPromise=True,
                                 returnByValue=True)
            facts = json.loads(probe["result"]["value"])
            shot = session.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        finally:
            ws.close()
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        shutil.rmtree(profile, ignore_errors=True)
    return PageView(facts["title"], facts["images"], facts["links"], facts["text"], screenshot,
                    facts["views"])


def _devtools_port(profile: Path, process: subprocess.Popen, timeout_s: float) -> int:
    """The port Chromium chose (it writes it in the profile's DevToolsActivePort)."""
    deadline = time.monotonic() + timeout_s
    marker = profile / "DevToolsActivePort"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        if marker.exists():
            lines = marker.read_text().split()
            if lines:
                return int(lines[0])
        time.sleep(0.1)
    raise TimeoutError("chromium did not open its DevTools port")


class _Session:
    """Sequential DevTools calls on one page's websocket; events are kept until waited for."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_event(self, method: str, timeout_s: float) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for event in self.events:
                if event.get("method") == method:
                    self.events.remove(event)
                    return event
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(f"no {method} within {timeout_s} s")
