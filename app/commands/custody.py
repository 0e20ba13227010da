"""`origintrace custody`: two-step handoff (offer, accept, cancel)."""

from typing import Annotated

import typer

from app.commands.context import (
    AccountOption,
    Gtin,
    ReceiverOption,
    RegistryOption,
    RpcOption,
    Serial,
    hours_from_now,
    item_command,
    item_key,
    parse_address,
    transact,
)

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


item_command(
    app, "accept", "acceptCustody", "took custody of {path}", "Accept custody of an item offered to you."
)
item_command(
    app, "cancel", "cancelOffer", "cancelled the offer of {path}", "Withdraw your pending offer of an item."
)
