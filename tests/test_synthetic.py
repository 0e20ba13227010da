"""The synthetic history's plan: sized in events, exactly; unit ids are valid GS1 SSCCs."""

import pytest

from app.gs1.keys import LogisticUnit
from app.indexer.synthetic import BATCH, HistoryPlan, unit_id, unit_sscc


@pytest.mark.parametrize("total", [39, 100, 1_500, 12_000, 200_000, 200_001, 1_000_000])
def test_a_plan_has_exactly_the_events_asked_for(total: int) -> None:
    plan = HistoryPlan.for_events(total)
    assert plan.events == total
    assert plan.journeys <= plan.unpacked <= plan.registered
    assert plan.units == -(-plan.registered // BATCH)
    assert plan.changes == plan.events - plan.units + plan.registered


def test_the_default_history_is_mostly_aggregation() -> None:
    plan = HistoryPlan.for_events(200_000)
    assert (plan.registered, plan.units, plan.unpacked, plan.journeys) == (154_377, 309, 38_595, 1_000)


def test_too_small_a_history_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 39 events"):
        HistoryPlan.for_events(38)


def test_units_are_valid_ssccs() -> None:
    for n in (0, 1, 308, 123_456_789):
        unit = LogisticUnit.parse(unit_sscc(n))
        assert unit.item_id == unit_id(n)
    assert unit_sscc(0) == "309506000000000003"
