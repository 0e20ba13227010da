"""Playwright drives Debian's chromium over the demo diamond's shopper page on a phone viewport."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import served
from eth_account.signers.local import LocalAccount
from playwright.sync_api import sync_playwright
from sqlalchemy import Engine
from web3 import Web3

from app.api.main import create_app
from app.chain.client import registry, send
from app.chain.deploy import Deployment
from app.chain.devnet import free_port
from app.core.config import PROJECT_ROOT, Settings, lot_store
from app.demo.journey import (
    CLAIMED,
    DIAMOND,
    PALLET,
    RECALLED,
    demo_members,
    metadata_uri,
    seed_demo,
    seed_mass_market,
)
from app.gs1.keys import SerialisedItem
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
LONG = SerialisedItem.parse(DIAMOND.gtin, "LONG-NAME")
LONG_NAME = "Hyaluronic" * 30
"""A name with no place to break a line, as a brand may write one."""
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def gateway_url(
    w3: Web3, deployment: Deployment, operator: LocalAccount, engine: Engine, settings: Settings
) -> Iterator[str]:
    contract = registry(w3, deployment.registry)
    seed_demo(w3, contract, operator)
    seed_mass_market(w3, contract, lot_store(settings, deployment.chain_id, deployment.registry))
    metadata_hash, uri = metadata_uri({"name": LONG_NAME})
    send(
        w3, demo_members()["brand"].account, contract.functions.registerItem(LONG.item_id, metadata_hash, uri)
    )
    Indexer(w3, engine, deployment).backfill()
    settings.port = free_port()
    with served(create_app(settings, engine), settings.port):
        yield settings.base_url


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (.ci/run installs it)")
def test_phone_shows_the_diamond_timeline_and_status(gateway_url: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            context = browser.new_context(
                viewport=PHONE,
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


def _contrast(rgb: str) -> float:
    """The contrast ratio of a CSS `rgb(r, g, b)` colour against white (WCAG 2)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(v) for v in rgb.removeprefix("rgb(").removesuffix(")").split(","))
    return 1.05 / (0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b) + 0.05)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (.ci/run installs it)")
def test_a_recall_step_has_a_red_dot(gateway_url: str) -> None:
    """Every step's dot was green, the recall's too."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_context(viewport=PHONE, is_mobile=True, locale="en-US").new_page()
            response = page.goto(gateway_url + RECALLED.path)
            assert response is not None and response.status == 200
            dots = page.evaluate(
                "Object.fromEntries([...document.querySelectorAll('#timeline li')].map(li =>"
                " [li.dataset.type, getComputedStyle(li, '::before').backgroundColor]))"
            )
            assert dots["recalled"] == "rgb(166, 27, 27)" and dots["registered"] == "rgb(19, 122, 61)"
            assert _contrast(dots["recalled"]) >= 4.5  # on the white card, as text would need
        finally:
            browser.close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (.ci/run installs it)")
def test_no_page_is_wider_than_the_phone(gateway_url: str) -> None:
    """Addresses, links and names with no break in them wrap instead of widening the page."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_context(viewport=PHONE, is_mobile=True, locale="en-US").new_page()
            widths = {}
            for path in (*(key.path for key in (DIAMOND, CLAIMED, PALLET, LONG)), "/"):
                response = page.goto(gateway_url + path)
                assert response is not None and response.status == 200
                widths[path] = page.evaluate("document.documentElement.scrollWidth")
            assert widths == dict.fromkeys(widths, PHONE["width"])
        finally:
            browser.close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (.ci/run installs it)")
def test_a_long_label_leaves_its_value_room_on_a_phone(gateway_url: str) -> None:
    """ "Sold by (until its buyer claims it)" took the whole label column's width, squeezing every
    value of the diamond's facts to a few letters a line ("Botsw / ana")."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            narrowest = {}
            for locale, lang in (("en-US", "en"), ("zh-CN", "zh")):
                page = browser.new_context(viewport=PHONE, is_mobile=True, locale=locale).new_page()
                for key in (DIAMOND, CLAIMED, PALLET):
                    response = page.goto(gateway_url + key.path)
                    assert response is not None and response.status == 200
                    narrowest[lang, key.path] = page.evaluate(
                        "Math.min(...[...document.querySelectorAll('dl > dd')].map(dd =>"
                        " dd.getBoundingClientRect().width"
                        " / dd.parentElement.getBoundingClientRect().width))"
                    )
            assert min(narrowest.values()) >= 0.5, narrowest
        finally:
            browser.close()
