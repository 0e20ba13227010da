"""`origintrace custody`: two-step handoff (offer, accept, cancel)."""

import typer

from app.commands.context import (
    AccountOption,
    OfferHoursOption,
    OptionalSerial,
    ReceiverOption,
    RecordArg,
    RegistryOption,
    RpcOption,
    accept_call,
    hours_from_now,
    item_command,
    named_record,
    parse_address,
    transact,
)

app = typer.Typer(help="Hand custody over: the holder offers, the receiver accepts.", no_args_is_help=True)


@app.command()
def offer(
    gtin: RecordArg,
    to: ReceiverOption,
    account: AccountOption,
    rpc: RpcOption,
    serial: OptionalSerial = None,
    hours: OfferHoursOption = 24,
    registry: RegistryOption = None,
) -> None:
    """Offer custody of an item, lot or logistic unit you hold to another member."""
    record, path = named_record(gtin, serial)
    receiver = parse_address(to, "--to")
    transact(
        rpc,
        registry,
        account,
        lambda c: c.registry.functions.offerCustody(record, receiver, hours_from_now(c, hours)),
        f"offered {path} to {receiver}, valid {hours:g} h",
    )


item_command(
    app,
    "accept",
    accept_call,
    "took custody of {path}",
    "Accept custody of an item, lot or logistic unit offered to you.",
)
item_command(
    app,
    "cancel",
    "cancelOffer",
    "cancelled the offer of {path}",
    "Withdraw your pending offer of an item, lot or logistic unit (also once expired).",
)
