"""The registry's enums as Python sees them (mirrors `contracts/types/RecordTypes.sol`)."""

STATUS_NAMES = ("none", "active", "offered", "sold", "recalled", "claimed", "lost", "destroyed")
"""`Status` values by number: `STATUS_NAMES[registry.statusOf(id)]`."""
