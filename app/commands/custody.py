"""`origintrace custody`: two-step handoff (offer, accept, cancel)."""

from typing import Annotated

import typer

from app.commands.context import (
    AccountOption,
    ReceiverOption,
    RegistryOption,
    RpcOption,
    hours_from_now,
    item_key,
    parse_address,
    transact,
)
from app.commands.items import Gtin, Serial

app = typer.Typer(help="Hand custody over: the holder offers, the receiver accepts.", no_args_is_help=True)


@app.command()
def offer(
    gtin: Gtin,
    serial: Serial,
    to: ReceiverOption,
    account: AccountOption,
    rpc: RpcOption,
    hours: Annotated[float, typer.Option(min=0.01, max=24 * 365, help="Hours until the offer expires")] = 24,
    registry: RegistryOption = None,
) -> None:
    """Offer custody of an item you hold to another member."""
    key = item_key(gtin, serial)
    receiver = parse_address(to, "--to")
    transact(
        rpc,
        registry,
        account,
        lambda c: c.registry.functions.offerCustody(key.item_id, receiver, hours_from_now(c, hours)),
        f"offered {key.path} to {receiver}, valid {hours:g} h",
    )


@app.command()
def accept(
    gtin: Gtin, serial: Serial, account: AccountOption, rpc: RpcOption, registry: RegistryOption = None
) -> None:
    """Accept custody of an item offered to you."""
    key = item_key(gtin, serial)
    transact(
        rpc,
        registry,
        account,
        lambda c: c.registry.functions.acceptCustody(key.item_id),
        f"took custody of {key.path}",
    )


@app.command()
def cancel(
    gtin: Gtin, serial: Serial, account: AccountOption, rpc: RpcOption, registry: RegistryOption = None
) -> None:
    """Withdraw your pending offer of an item."""
    key = item_key(gtin, serial)
    transact(
        rpc,
        registry,
        account,
        lambda c: c.registry.functions.cancelOffer(key.item_id),
        f"cancelled the offer of {key.path}",
    )
