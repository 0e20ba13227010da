"""Text a command puts on chain in full, and what it costs.

The registry keeps only hashes in its state, but the strings a member gives it (an item's
metadata as a data: URI, a lot's metadata URI, an attestation's URI) go on chain whole: in the
transaction's calldata and in its event's log, paid for in gas (a 200 KB metadata file took
10.7 M gas). A large one is warned of with its estimated gas, and refused past TEXT_LIMIT
unless --force.
"""

from typing import Annotated

import typer

from app.commands.context import fail

TEXT_WARN = 4 * 1024
"""Bytes above which the gas of the text is worth a warning (a usual product JSON is ~300 bytes)."""
TEXT_LIMIT = 32 * 1024
"""Bytes above which the text is refused without --force: about 1.3 M gas, ten registrations' worth."""
CALLDATA_FLOOR_GAS = 40
"""Gas a byte of calldata costs at least in a transaction that is mostly data (EIP-7623, Prague)."""

ForceOption = Annotated[
    bool,
    typer.Option("--force", help=f"Put text over {TEXT_LIMIT // 1024} KiB on chain anyway (it costs gas)"),
]


def text_gas(size: int, logs: int = 1) -> int:
    """The gas `size` bytes of text (no zero bytes) add to a transaction that carries them once
    in its calldata and in `logs` event logs: calldata at 16 a byte, a log at 8 a byte plus
    copying to memory, or EIP-7623's calldata floor when that is more."""
    words = -(-size // 32)
    executed = 16 * size + logs * (8 * size + 6 * words) + words * words // 512
    return max(executed, CALLDATA_FLOOR_GAS * size)


def check_onchain_text(what: str, text: str, force: bool, logs: int = 1) -> None:
    """Warn (stderr) that `text` is large, with its estimated gas; refuse it (exit 2) past
    TEXT_LIMIT unless `force`. `what` names it in the message; `logs` as for `text_gas`."""
    size = len(text.encode())
    if size <= TEXT_WARN:
        return
    said = (
        f"{what} is {size / 1024:,.1f} KiB, all of it on chain (calldata and event log): about"
        f" {text_gas(size, logs):,} gas"
    )
    if size > TEXT_LIMIT and not force:
        fail(
            f"{said}, over the {TEXT_LIMIT // 1024} KiB limit; keep it small (put documents and images"
            " at an https:// or ipfs:// address) or pass --force",
            code=2,
        )
    typer.secho(f"warning: {said}", err=True, fg=typer.colors.YELLOW)
