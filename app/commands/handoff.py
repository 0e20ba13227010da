"""`origintrace handoff`: gasless custody handoffs signed by both parties (EIP-712).

    origintrace handoff prepare GTIN SERIAL --to 0xRECEIVER --out handoff.json   # or a Digital Link
    origintrace handoff sign handoff.json --account brand       # the current custodian
    origintrace handoff sign handoff.json --account carrier     # the receiver
    origintrace handoff relay handoff.json --gateway https://gw.example
    origintrace handoff relayer --gateway https://gw.example  # its funds and what waits
One JSON file travels between the parties: the typed data any wallet's
eth_signTypedData_v4 can sign, plus the signatures collected so far.
"""

import json
import re
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from web3 import Web3

from app.chain.client import utc_time
from app.chain.handoffs import handoff_typed_data, sign_handoff
from app.chain.record_types import STATUS_NAMES
from app.commands.context import (
    AccountOption,
    OptionalSerial,
    ReceiverOption,
    RecordArg,
    RegistryOption,
    RpcOption,
    clear_errors,
    fail,
    hours_from_now,
    named_record,
    open_chain,
    parse_address,
    signer,
    writing,
)
from app.commands.gateway import GatewayOption, gateway_json, gateway_url, reason

app = typer.Typer(help="Gasless handoffs: prepare, sign by both parties, relay.", no_args_is_help=True)
HandoffFile = Annotated[Path, typer.Argument(help="The handoff JSON file (from `handoff prepare`)")]


def _read(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        fail(f"cannot read the handoff file {path}: {exc}", code=2)
    if "typedData" not in data:
        fail(f"{path} is not a handoff file; create one with `origintrace handoff prepare`", code=2)
    return data


def _expired(deadline: int) -> str:
    return f"expired at {utc_time(deadline)}; run `origintrace handoff prepare` again"


@app.command()
def prepare(
    gtin: RecordArg,
    to: ReceiverOption,
    rpc: RpcOption,
    serial: OptionalSerial = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Handoff file to write")] = Path("handoff.json"),
    hours: Annotated[
        float, typer.Option(min=0.01, max=24 * 30, help="Hours until the signatures expire")
    ] = 24,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite --out if it exists (its signatures are lost)")
    ] = False,
    registry: RegistryOption = None,
) -> None:
    """Write the typed data of a handoff of an item, lot or logistic unit from its current
    custodian to `--to`."""
    if out.exists() and not force:
        fail(
            f"{out} exists (perhaps a handoff being signed): give another --out, or --force to overwrite it",
            code=2,
        )
    record, path = named_record(gtin, serial)
    with clear_errors():
        receiver = parse_address(to, "--to")
        chain = open_chain(rpc, registry)
        sender = chain.registry.functions.custodianOf(record).call()
        if int(sender, 16) == 0:
            fail(f"no record {path} is registered on chain {chain.w3.eth.chain_id}", code=2)
        if sender == receiver:
            fail(f"{receiver} already holds {path}; --to names the member who takes it over", code=2)
        # What the registry would refuse once both have signed, refused before they sign.
        status = STATUS_NAMES[chain.registry.functions.statusOf(record).call()]
        if status != "active":
            fail(
                f"{path} is {status}: only an active record is handed over (cancel a pending offer first)",
                code=2,
            )
        if chain.registry.functions.containerOf(record).call() != bytes(32):
            fail(
                f"{path} is packed in a logistic unit: move the unit (`units move`) or unpack it first",
                code=2,
            )
        if not chain.registry.functions.isMember(receiver).call():
            fail(
                f"{receiver} is not a consortium member: a handoff goes to a member (see `members list`)",
                code=2,
            )
        deadline = hours_from_now(chain, hours)
        data = handoff_typed_data(chain.registry, record, sender, receiver, deadline)
    with writing(out):
        out.write_text(json.dumps({"typedData": data, "signatures": {}}, indent=2) + "\n")
    typer.echo(f"{out}: hand {path} from {sender} to {receiver}; both must sign before {utc_time(deadline)}")


def _unexpired(data: dict[str, Any]) -> dict[str, Any]:
    """The message of the handoff file `data`, after refusing (exit 2) one past its deadline:
    the registry would refuse it, so it is neither signed nor sent."""
    message: dict[str, Any] = data["typedData"]["message"]
    if int(message["deadline"]) <= time.time():
        fail(f"this handoff {_expired(int(message['deadline']))}", code=2)
    return message


@app.command("sign")
def sign_(path: HandoffFile, account: AccountOption) -> None:
    """Add your signature to a handoff file (you must be its sender or receiver)."""
    data = _read(path)
    message = _unexpired(data)
    parties = {Web3.to_checksum_address(message["from"]), Web3.to_checksum_address(message["to"])}
    with clear_errors():
        me = signer(account)
    if me.address not in parties:
        fail(
            f"account {account} ({me.address}) is neither the sender nor the receiver of this handoff", code=2
        )
    data["signatures"][me.address] = "0x" + sign_handoff(me, data["typedData"]).hex()
    with writing(path):
        path.write_text(json.dumps(data, indent=2) + "\n")
    missing = parties - set(data["signatures"])
    typer.echo(
        f"signed as {me.address}; " + (f"waiting for {missing.pop()}" if missing else "ready to relay")
    )


@app.command()
def relay(path: HandoffFile, gateway: GatewayOption = None) -> None:
    """Send a handoff signed by both parties to the gateway's relayer, which pays the gas."""
    data = _read(path)
    message = _unexpired(data)
    signatures = data["signatures"]
    body = {
        "ids": message.get("ids") or [message["id"]],
        "from": message["from"],
        "to": message["to"],
        "deadline": message["deadline"],
        "from_signature": signatures.get(Web3.to_checksum_address(message["from"])),
        "to_signature": signatures.get(Web3.to_checksum_address(message["to"])),
    }
    if not body["from_signature"] or not body["to_signature"]:
        fail("both the sender and the receiver must sign first (`origintrace handoff sign`)", code=2)
    url = gateway_url(gateway, "/api/v1/relay/handoffs")
    code, result = gateway_json("POST", url, body=body, timeout=30)
    if code >= 400:
        expired = isinstance(result, dict) and result.get("error") == "expired"
        hint = f"; it {_expired(int(message['deadline']))}" if expired else ""
        fail(f"the relayer refused the handoff ({code}): {reason(result)}{hint}")
    typer.echo(f"relayed: tx {result['tx_hash']} (request {result['request_id']}, {result['status']})")


@app.command()
def status(
    request_id: Annotated[
        str, typer.Argument(help="Request id printed by `handoff relay` or `items claim --relay`")
    ],
    gateway: GatewayOption = None,
) -> None:
    """Show whether a relayed handoff or claim was mined."""
    if not re.fullmatch(r"0x[0-9a-fA-F]{64}", request_id):
        fail(
            f"{request_id!r} is not a request id: 0x and 64 hex digits, as `handoff relay` or"
            " `items claim --relay` printed it",
            code=2,
        )
    url = gateway_url(gateway, f"/api/v1/relay/handoffs/{request_id}")
    code, result = gateway_json("GET", url, timeout=10)
    if code >= 400:
        fail(f"the relayer answered {code}: {reason(result)}")
    block = f" in block {result['block']}" if result.get("block") is not None else ""
    typer.echo(f"{result['status']}{block}: tx {result['tx_hash']}")
    if result["status"] == "dropped":
        typer.echo("it can never be mined: `origintrace handoff relay HANDOFF_FILE` submits it anew")


@app.command()
def relayer(gateway: GatewayOption = None) -> None:
    """Show the gateway's relayer: its account, whether it is funded, and whether anything waits."""
    code, result = gateway_json("GET", gateway_url(gateway, "/api/v1/relay"), timeout=10)
    if code >= 400:
        fail(f"the gateway answered {code}: {reason(result)}")
    balance = int(result["balance_wei"])
    typer.echo(f"relayer {result['address']} on chain {result['chain_id']}, registry {result['registry']}")
    typer.echo(f"balance {Web3.from_wei(balance, 'ether'):.6f} ETH ({balance} wei)")
    if not result["unmined"]:
        typer.echo("no unmined transactions")
        return
    typer.echo(
        f"{result['unmined']} unmined transaction(s), the oldest signed {result['oldest_unmined_s']} s ago "
        f"(one below the market's fees is replaced after {result['stuck_after_s']:g} s)"
    )
