"""Shopper page rendering without a chain: templates, filters and the words pages use."""

import pytest

from app.api.pages import _env


def test_templates_are_loaded_once_not_reloaded_from_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """A gateway mid-upgrade rendered the new templates (changed on disk) with its old code."""
    loaded = _env.get_template("base.html")
    monkeypatch.setattr("os.path.getmtime", lambda path: 0.0)  # every file "changed" since
    assert _env.get_template("base.html") is loaded
