"""Shopper page rendering without a chain: templates, filters and the words pages use."""

import re

import pytest

from app.api.i18n import TEXT, count_text, risk_detail
from app.api.models import HistoryEntry
from app.api.pages import _env, _render, render_home_page


def test_templates_are_loaded_once_not_reloaded_from_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """A gateway mid-upgrade rendered the new templates (changed on disk) with its old code."""
    loaded = _env.get_template("base.html")
    monkeypatch.setattr("os.path.getmtime", lambda path: 0.0)  # every file "changed" since
    assert _env.get_template("base.html") is loaded


@pytest.mark.parametrize(("lang", "shown"), [("en", "1,234,567"), ("zh", "1,234,567")])
def test_counts_on_pages_group_their_digits(lang: str, shown: str) -> None:
    assert _env.from_string("{{ n | count }}").render(lang=lang, n=1234567) == shown
    assert count_text(999, lang) == "999"


def test_every_count_in_the_pages_words_goes_through_the_count_filter() -> None:
    """A `%d` formats its count itself, without separators (a lot of 1000 items)."""
    assert [key for words in TEXT.values() for key, text in words.items() if "%d" in text] == []
    assert risk_detail("scan_burst", 1200, [], "en") == "scanned 1,200 times within one minute"
    assert risk_detail("scan_burst", 1200, [], "zh") == "一分钟内被扫描 1,200 次"


def test_the_landing_page_links_the_api_docs_only_where_they_are_served() -> None:
    assert '<a href="/docs">' in render_home_page("zh", docs=True)
    assert '<a href="/docs">' not in render_home_page("en", docs=False)


def _step(kind: str, block: int) -> HistoryEntry:
    return HistoryEntry(
        type=kind,
        block=block,
        tx="0x" + "ab" * 32,
        log_index=0,
        timestamp="2026-12-07T16:05:28Z",
        confirmations=12,
        confirmed=True,
    )


def test_bad_news_steps_have_a_red_or_amber_dot_not_a_green_one() -> None:
    """Every timeline dot was green, a recall's too."""
    kinds = ["registered", "reported_lost", "found", "recalled", "destroyed"]
    timeline = [_step(kind, block) for block, kind in enumerate(kinds)]
    page = _render(
        "timeline.html", "en", "destroyed", timeline=timeline, needed=12, pending=0, kind="ItemPublic"
    )
    tones = re.findall(r'<li data-type="(\w+)"(?: class="(\w+)")?>', page)
    assert tones == [
        ("registered", ""),
        ("reported_lost", "warn"),
        ("found", ""),
        ("recalled", "bad"),
        ("destroyed", "bad"),
    ]
    css = _env.get_template("base.html").render(lang="en", t=TEXT["en"])
    assert "ol.timeline li.bad::before{background:var(--bad)}" in css
    assert "ol.timeline li.warn::before{background:var(--warn)}" in css
