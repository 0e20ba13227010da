"""A packed record changes hands with its logistic unit: `ItemReader.carried` finds those moves."""

from app.api.items import ItemReader
from app.indexer.decode import DecodedLog

ITEM, INNER, OUTER = "0x" + "11" * 32, "0x" + "22" * 32, "0x" + "33" * 32


def _log(name: str, block: int, record: str, **args: str) -> DecodedLog:
    return DecodedLog(name, args, block, "0x" + "00" * 32, "0x" + f"{block:064x}", 0, block, record)


EVENTS = {
    ITEM: [
        _log("ItemRegistered", 1, ITEM),
        _log("UnitPacked", 2, ITEM, unitId=INNER),
        _log("UnitUnpacked", 8, ITEM, unitId=INNER),
        _log("UnitPacked", 10, ITEM, unitId=OUTER),
    ],
    INNER: [
        _log("CustodyTransferred", 1, INNER),  # before the item was packed in it
        _log("CustodyTransferred", 3, INNER),
        _log("UnitPacked", 4, INNER, unitId=OUTER),
        _log("CustodyOffered", 5, INNER),  # an offer moves nothing
        _log("CustodyTransferred", 9, INNER),  # after the item was unpacked
    ],
    OUTER: [
        _log("CustodyTransferred", 6, OUTER),  # while the item was in INNER, packed in OUTER
        _log("CustodyTransferred", 9, OUTER),  # after the item left INNER
        _log("CustodyTransferred", 11, OUTER),  # the item is in OUTER itself again
    ],
}


def test_moves_of_the_units_a_record_was_in_while_it_was_in_them() -> None:
    reader = object.__new__(ItemReader)
    reader.events = lambda record_id, *_args, **_kwargs: EVENTS[record_id]  # type: ignore[method-assign]
    moved = [(log.block_number, log.item_id) for log in reader.carried(EVENTS[ITEM])]
    assert moved == [(3, INNER), (6, OUTER), (11, OUTER)]


def test_a_unit_already_in_another_carries_the_record_with_that_one_too() -> None:
    """A case already on a pallet when the item went into it: the pallet's handover moved the item."""
    case, pallet = "0x" + "44" * 32, "0x" + "55" * 32
    events = {
        ITEM: [_log("ItemRegistered", 1, ITEM), _log("UnitPacked", 3, ITEM, unitId=case)],
        case: [_log("UnitPacked", 2, case, unitId=pallet)],
        pallet: [_log("CustodyTransferred", 1, pallet), _log("CustodyTransferred", 5, pallet)],
    }
    reader = object.__new__(ItemReader)
    reader.events = lambda record_id, *_args, **_kwargs: events[record_id]  # type: ignore[method-assign]
    assert [(log.block_number, log.item_id) for log in reader.carried(events[ITEM])] == [(5, pallet)]
