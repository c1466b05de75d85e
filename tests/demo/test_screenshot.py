"""Headless Chromium (Debian's `chromium`) drives the launched demo: clicks a SynthAVS example, runs a prediction,
and takes a screenshot of the page with its results. Chrome DevTools Protocol over `--remote-debugging-pipe` (file
descriptors 3 and 4, NUL-terminated JSON), so no websocket client is needed. Skipped when chromium is absent."""

import json
import os
import shutil
import subprocess
import time

import numpy as np
import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


class Chromium:
    """A headless Chromium driven over the DevTools pipe; one page."""

    def __init__(self, user_data_dir, width=1280, height=1800):
        child_in, self._out = os.pipe()
        self._in, child_out = os.pipe()
        redirect = f'exec "$0" "$@" 3<&{child_in} 4>&{child_out}'
        flags = [
            *FLAGS,
            f"--user-data-dir={user_data_dir}",
            "--remote-debugging-pipe",
            f"--window-size={width},{height}",
        ]
        self.process = subprocess.Popen(
            ["bash", "-c", redirect, CHROMIUM, *flags],
            pass_fds=(child_in, child_out),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(child_in)
        os.close(child_out)
        self._buffer, self._id, self._session = b"", 0, None
        self.size = (width, height)

    def send(self, method, params=None, timeout=60.0):
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if self._session:
            message["sessionId"] = self._session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # replies and events interleave: read until our reply
            while b"\0" not in self._buffer:
                chunk = os.read(self._in, 1 << 16)
                if not chunk:
                    raise RuntimeError("chromium closed the DevTools pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method} failed: {reply['error']}")
                return reply["result"]
        raise TimeoutError(f"no reply to {method} in {timeout} s")

    def open(self, url):
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        width, height = self.size
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        self.send("Page.navigate", {"url": url})

    def js(self, expression):
        return self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})["result"].get("value")

    def wait_for(self, expression, timeout=60.0, what=""):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.js(expression):
                return
            time.sleep(0.25)
        raise TimeoutError(f"page never showed {what or expression} in {timeout} s")

    def screenshot(self, path):
        import base64

        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self):
        self.process.kill()
        self.process.wait()
        os.close(self._in)
        os.close(self._out)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
def test_screenshot_after_prediction(launched, tmp_path):
    _, url = launched
    browser = Chromium(tmp_path / "profile")  # a fresh profile
    try:
        browser.open(url)
        browser.wait_for("document.querySelectorAll('tr.tr-body').length > 0", what="the examples")
        browser.js("document.querySelector('tr.tr-body td').click()")  # the first SynthAVS example
        browser.wait_for("!document.body.innerText.includes('Drop Video Here')", what="the example in the input")
        browser.js("[...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Segment').click()")
        browser.wait_for("document.body.innerText.includes('frames sampled from')", what="the prediction's status")
        browser.wait_for("document.querySelectorAll('video').length >= 2", what="the overlay video")
        time.sleep(1.0)  # let the gallery images and the plot paint
        text = browser.js("document.body.innerText")
        path = tmp_path / "demo.png"
        browser.screenshot(path)
    finally:
        browser.close()
    keep = os.environ.get("TAVIS_DEMO_SCREENSHOT")
    if keep:  # for a person to look at
        shutil.copy(path, keep)
    assert "5 frames sampled from 5.0 s" in text  # the 5-s SynthAVS example at 1 fps
    assert "Detected sounding objects" in text and "Sounding score over time" in text
    image = np.asarray(Image.open(path).convert("RGB"))
    assert image.shape[1] >= 1200 and image.shape[0] >= 900  # the 1280-px window, less a scroll bar
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 500  # rendered content, not a blank page
