"""Fixtures of the web UI tests: a private data directory, the app served by uvicorn on 127.0.0.1, and
Debian's chromium driven by Selenium through the system chromedriver (never a downloaded one).

Without chromium or chromedriver the browser tests skip on a workstation and FAIL under ``CI=true``
(``.ci/run`` installs both)."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agentcore.tracing import store as trace_store

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("AGENTCORE_HOME", str(path))
    for name in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_TRACES_EXPORTER",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        "OTEL_SDK_DISABLED",
        "OTEL_SERVICE_NAME",
        "AGENTCORE_TRACES",
    ):
        monkeypatch.delenv(name, raising=False)
    trace_store.reset()
    yield path
    trace_store.reset()


class Served:
    """The UI app served by uvicorn in a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="on"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the UI server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.app = app

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def serve(home: Path) -> Iterator[Callable[..., Served]]:
    """``serve(**create_app kwargs)``: the app over ``home``, on 127.0.0.1 (a free port)."""
    from agentcore.ui.server import create_app

    started: list[Served] = []

    def _serve(**kwargs: Any) -> Served:
        kwargs.setdefault("home", home)
        kwargs.setdefault("refresh_s", 0.2)
        served = Served(create_app(**kwargs))
        started.append(served)
        return served

    yield _serve
    for served in started:
        served.stop()


def wait_until(predicate: Callable[[], Any], *, what: str, limit: int = 600) -> Any:
    """Poll ``predicate`` (every 0.1 s, at most ``limit`` times) until it returns something true."""
    for _ in range(limit):
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Debian chromium through /usr/bin/chromedriver (Selenium never fetches a driver)."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium (the dev extra)")
    if missing:
        message = f"the browser tests need {', '.join(missing)} (.ci/run installs chromium chromium-driver)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must never go to the network
    profile = tempfile.mkdtemp(prefix="agentcore-ui-chromium-")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1440,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
