"""Playwright drives Debian's chromium over the demo diamond's shopper page on a phone viewport."""

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from eth_account.signers.local import LocalAccount
from playwright.sync_api import sync_playwright
from sqlalchemy import Engine
from web3 import Web3

from app.api.main import create_app
from app.chain.client import registry
from app.chain.deploy import Deployment
from app.chain.devnet import free_port
from app.core.config import PROJECT_ROOT, Settings
from app.demo.journey import DIAMOND, seed_demo
from app.indexer.follow import Indexer

pytestmark = pytest.mark.e2e
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = PROJECT_ROOT / "tests" / "artifacts"


@pytest.fixture
def gateway_url(
    w3: Web3, deployment: Deployment, operator: LocalAccount, engine: Engine, settings: Settings
) -> Iterator[str]:
    seed_demo(w3, registry(w3, deployment.registry), operator)
    Indexer(w3, engine, deployment).backfill()
    settings.port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engine), host="127.0.0.1", port=settings.port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        threading.Event().wait(0.05)
    try:
        yield settings.base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (.ci/run installs it)")
def test_phone_shows_the_diamond_timeline_and_status(gateway_url: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 390, "height": 844},
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                java_script_enabled=False,
                locale="en-US",
            )
            page = context.new_page()
            response = page.goto(gateway_url + DIAMOND.path)
            assert response is not None and response.status == 200
            assert page.locator("#status").inner_text() == "Sold"
            steps = page.locator("#timeline li")
            assert steps.count() == 9
            assert "TianMall Global" in steps.nth(7).inner_text()
            assert page.locator("#certifications").inner_text().count("Antwerp World Diamond Centre") == 1
            assert page.locator("main").bounding_box()["width"] <= 390  # type: ignore[index]
            page.screenshot(path=str(SCREENSHOTS / "diamond-phone.png"), full_page=True)
        finally:
            browser.close()
    assert (SCREENSHOTS / "diamond-phone.png").stat().st_size > 10_000
