"""What every chain command shares: which chain and registry, who signs, and clear errors."""

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Final, NoReturn

import requests
import typer
from eth_abi.exceptions import DecodingError
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import BadFunctionCallOutput, ContractLogicError, Web3RPCError
from web3.types import TxReceipt

from app.chain.artifacts import artifact
from app.chain.client import (
    TransactionFailed,
    TransactionRefused,
    chain_time,
    connect,
    registry,
    send,
    simulate,
    utc_time,
)
from app.chain.deploy import ManifestError, known_deployment, load_manifest, manifest_path
from app.chain.keystore import (
    KeystoreError,
    WrongPassphrase,
    existing_keystore,
    keystore_address,
    load_account,
)
from app.chain.logs import LogsUnavailable, Topics, raw_logs
from app.commands import terminal
from app.commands.terminal import NotConfirmed, YesOption, confirm_irreversible
from app.gs1.digital_link import DigitalLink, KeyKind, parse_link
from app.gs1.keys import InvalidKey, SerialisedItem, normalise_sscc
from app.indexer.decode import LogDecoder
from app.indexer.rpc import RpcClient, RpcError

PASSPHRASE_ENV = "ORIGINTRACE_PASSPHRASE"
PASSPHRASE_TRIES = 3
"""Passphrases typed at a terminal before a command gives up (one from PASSPHRASE_ENV: one)."""

RpcOption = Annotated[
    str,
    typer.Option("--rpc", envvar="ORIGINTRACE_RPC_URL", help="JSON-RPC URL of the chain", show_envvar=True),
]
RegistryOption = Annotated[
    str | None,
    typer.Option(
        "--registry",
        envvar="ORIGINTRACE_REGISTRY",
        show_envvar=True,
        help="Registry address the consortium publishes (default: from deployments/<chainId>.json)",
    ),
]
_ACCOUNT = typer.Option(
    "--account",
    "-a",
    envvar="ORIGINTRACE_ACCOUNT",
    show_envvar=True,
    help="Keystore account name that signs (see `origintrace accounts list`)",
)
AccountOption = Annotated[str, _ACCOUNT]
OptionalAccountOption = Annotated[str | None, _ACCOUNT]
"""For commands that can do without a signer (e.g. when a relayer sends the transaction)."""


ReceiverOption = Annotated[str, typer.Option("--to", help="Address of the receiving member")]
OfferHoursOption = Annotated[
    float,
    typer.Option("--hours", min=0.01, max=24 * 365, help="Hours until the offer expires (0.01 to 8760)"),
]
"""How long an offer stands: the registry refuses an expiry in the past, so this is checked first."""


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


OFFER_AGAIN = "the holder offers it again"

REVERT_HINTS = (
    (
        re.compile(r"RegistryInvalidStatus\(.*status=offered\)"),
        "an offer of it is pending (perhaps expired): the receiver accepts it, or the holder"
        " withdraws it with `origintrace custody cancel`",
    ),
    (re.compile(r"RegistryNotOfferRecipient\("), "no offer of it to this account is pending"),
    (
        re.compile(r"RegistryPacked\("),
        "it is packed in a logistic unit (unitId) and moves with it: hand the unit over, or"
        " `origintrace units unpack` it first",
    ),
    (
        re.compile(r"RegistryUnknownItem\("),
        "no record has this id: check the GTIN and serial (an item of an anchored lot is not a"
        " record of its own: it moves with its lot)",
    ),
    (re.compile(r"RegistryOfferExpired\("), f"the offer expired: {OFFER_AGAIN}"),
    (
        re.compile(r"^(acceptCustody|cancelOffer): RegistryInvalidStatus\(.*status=active\)"),
        "no offer of it is pending",
    ),
    (
        re.compile(r"^cancelOffer: RegistryNotCustodian\("),
        "only the holder can withdraw an offer; the receiver accepts it or lets it expire",
    ),
    (re.compile(r"RegistryInvalidClaim\("), "the claim code does not match this item"),
    (
        re.compile(r"AttestationNotRevocable\("),
        "no attestation of this kind and document by this account is in force (check --kind and"
        " --document; a revoked one stays revoked)",
    ),
    (
        re.compile(r"neededRole=certifier\)"),
        "attestations need the certifier role; a customs office attests --kind CUSTOMS_CLEARANCE only",
    ),
    (
        re.compile(r"EnforcedPause\("),
        "the consortium's admins paused the registry; writes resume once they approve"
        " `origintrace members propose unpause`",
    ),
    (
        re.compile(r"ConsortiumHandoverNotReady\("),
        "an admin seat can be taken over 2 days after it was offered (readyAt, unix time)",
    ),
    (
        re.compile(r"ConsortiumNoHandover\("),
        "no admin seat offer from that admin to this account is pending (check FROM and --account):"
        " an admin offers its seat with `origintrace members handover start`, and an offer ends"
        " when its admin is no longer one",
    ),
)
"""Custom errors whose fix is not in their name, and what to do. Each pattern is searched in
`function: reason` (e.g. `acceptCustody: RegistryInvalidStatus(itemId=0x.., status=active)`), so
a hint can be one function's."""


def revert_hint(reason: str, function: str = "") -> str:
    """`; what to do` for a revert reason of `function` REVERT_HINTS knows, else empty."""
    refusal = f"{function}: {reason}"
    return next((f"; {hint}" for pattern, hint in REVERT_HINTS if pattern.search(refusal)), "")


_NAMED: dict[str, str] = {}
"""The Digital Link path of each record (by 0x-hex id) that the user named to this command."""


def named(record: bytes, path: str) -> bytes:
    """`record`, remembered as the record at `path`: a refusal naming it by id names its path too."""
    _NAMED["0x" + record.hex()] = path
    return record


def with_paths(reason: str) -> str:
    """`reason` with the Digital Link path after each record id the user named by its path."""

    def path_after(match: re.Match[str]) -> str:
        path = _NAMED.get(match.group(0).lower())
        return f"{match.group(0)} ({path})" if path else match.group(0)

    return re.sub(r"0x[0-9a-fA-F]{64}(?![0-9a-fA-F])", path_after, reason)


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn the errors a user can fix into one-line messages (never a traceback or a key)."""
    try:
        yield
    except NotConfirmed as exc:
        fail(str(exc), code=exc.code)
    except TransactionRefused as exc:
        fail(str(exc))
    except TransactionFailed as exc:
        reason = str(exc)
        fail(f"the registry refused the transaction: {with_paths(reason)}{revert_hint(reason, exc.function)}")
    except (KeystoreError, InvalidKey) as exc:
        fail(str(exc), code=2)
    except (ConnectionError, requests.RequestException, RpcError) as exc:
        fail(f"{exc}; check --rpc / ORIGINTRACE_RPC_URL")
    except (FileNotFoundError, ManifestError, LogsUnavailable) as exc:
        fail(str(exc))


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Around writing `path` (a file, or a folder's files): a failure names the path that could
    not be written and why, in one line (exit 2), never a traceback."""
    try:
        yield
    except OSError as exc:
        fail(f"cannot write {exc.filename or path}: {exc.strerror or exc}", code=2)


def read_passphrase(name: str, confirm: bool = False) -> str:
    """The passphrase from $ORIGINTRACE_PASSPHRASE, or a hidden prompt."""
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env is not None:
        return from_env
    if not terminal.interactive():
        fail(f"no terminal to ask the passphrase of {name!r}: set {PASSPHRASE_ENV}", code=2)
    while True:
        value = _typed(f"Passphrase for {name}")
        if not value:  # a prompt that returns silently to itself looks like a hang or a bug
            typer.echo("empty passphrase, try again", err=True)
        elif not confirm or _typed("Repeat for confirmation") == value:
            return value
        else:
            typer.echo("the two passphrases differ, try again", err=True)


def _typed(prompt: str) -> str:
    """A hidden line typed at the terminal, empty if just Enter (click asks again in silence)."""
    return str(typer.prompt(prompt, hide_input=True, default="", show_default=False))


def signer(name: str) -> LocalAccount:
    """The account `name`, unlocked: a passphrase typed wrong at a terminal is asked again (up
    to PASSPHRASE_TRIES times); a wrong one from PASSPHRASE_ENV fails at once."""
    existing_keystore(name)  # an unknown name fails before any prompt
    if os.environ.get(PASSPHRASE_ENV) is not None:
        try:
            return load_account(name, read_passphrase(name))
        except WrongPassphrase as exc:
            raise WrongPassphrase(f"{exc} (the one {PASSPHRASE_ENV} holds)") from None
    for _ in range(PASSPHRASE_TRIES - 1):
        try:
            return load_account(name, read_passphrase(name))
        except WrongPassphrase:
            typer.echo("wrong passphrase, try again", err=True)
    return load_account(name, read_passphrase(name))


@dataclass(frozen=True)
class Chain:
    """A connected chain and the registry on it."""

    w3: Web3
    registry: Contract
    rpc_url: str


REGISTRY_DOMAIN = "OriginTrace"
"""The EIP-712 domain name of the registry (contracts/registry/SignedHandoffs.sol)."""


def open_chain(rpc: str, registry_address: str | None, deployments_dir: Path | None = None) -> Chain:
    w3 = connect(rpc)
    if registry_address is None:
        path = manifest_path(w3.eth.chain_id, deployments_dir)
        if not path.exists():
            fail(
                f"which registry? pass --registry (or set ORIGINTRACE_REGISTRY) to the address your "
                f"consortium publishes; there is no deployment manifest at {path} for chain "
                f"{w3.eth.chain_id} (a developer's own deployment writes one: `ape run deploy`)",
                code=2,
            )
        registry_address = load_manifest(path).registry
    if not Web3.is_address(registry_address):
        fail(f"--registry {registry_address!r} is not an address", code=2)
    if not w3.eth.get_code(Web3.to_checksum_address(registry_address)):
        fail(f"no contract at {registry_address} on chain {w3.eth.chain_id}", code=2)
    contract = registry(w3, registry_address)
    try:  # its EIP-712 domain (EIP-5267) names it; another contract answered "no members yet"
        name = contract.functions.eip712Domain().call()[1]
    except (ContractLogicError, BadFunctionCallOutput, DecodingError, Web3RPCError):  # not: unreachable
        name = None
    if name != REGISTRY_DOMAIN:
        fail(
            f"{registry_address} on chain {w3.eth.chain_id} is not an OriginTrace registry: check --registry",
            code=2,
        )
    return Chain(w3, contract, rpc)


@lru_cache(maxsize=1)
def registry_decoder() -> LogDecoder:
    """The decoder of the registry's events (built once: it parses the whole ABI)."""
    return LogDecoder(artifact("OriginRegistry").abi)


def registry_logs(chain: Chain, topics: Topics) -> list[dict[str, Any]]:
    """Raw logs of the chain's registry matching `topics`, from its deployment block (when its
    manifest names this registry; else block 0) to the head, in ranges the node accepts."""
    known = known_deployment(chain.w3.eth.chain_id)
    start = known.deploy_block if known and known.registry.lower() == chain.registry.address.lower() else 0
    return raw_logs(RpcClient(chain.rpc_url), chain.registry.address, topics, start)


def hours_from_now(chain: Chain, hours: float) -> int:
    """Unix time `hours` after the chain's time (see `chain_time`: expiries are checked against it)."""
    return int(chain_time(chain.w3) + hours * 3600)


def counted(n: int, noun: str) -> str:
    """`n` and `noun`, plural unless `n` is 1: "1 item", "1,000 items"."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def parse_address(value: str, what: str) -> str:
    """`value` as a checksummed address. One in mixed case must carry a valid EIP-55 checksum:
    a mistyped letter in an address copied from a wallet is caught before goods or a seat go
    to an address nobody holds (all lower or upper case carries none, and is taken as it is)."""
    if not Web3.is_address(value):
        fail(f"{what} {value!r} is not an Ethereum address (0x followed by 40 hex digits)", code=2)
    digits = value.removeprefix("0x").removeprefix("0X")
    if digits != digits.lower() and digits != digits.upper() and not Web3.is_checksum_address(value):
        fail(
            f"{what} {value} fails its EIP-55 checksum (a letter's case is wrong: a typo?);"
            f" copy it again, or give it in lower case to skip the check",
            code=2,
        )
    return Web3.to_checksum_address(value)


def parse_bytes32(value: str, what: str) -> bytes:
    text = value.removeprefix("0x")
    if len(text) != 64 or any(c not in "0123456789abcdefABCDEF" for c in text):
        fail(f"{what} must be 32 bytes as 64 hex digits, got {value!r}", code=2)
    return bytes.fromhex(text)


def record_id(link: DigitalLink) -> bytes:
    """On-chain id of the item, lot or unit `link` names (the rules of contracts/libraries/ItemIds.sol)."""
    key = link.record_key
    if key is None:
        fail(f"{link.path} names a product class, not an item, lot or unit", code=2)
    return named(key.item_id, link.path)


def item_key(gtin: str, serial: str) -> SerialisedItem:
    with clear_errors():
        key = SerialisedItem.parse(gtin, serial)
    named(key.item_id, key.path)
    return key


Gtin = Annotated[str, typer.Argument(help="GTIN-8/12/13/14 (check digit verified)")]
Serial = Annotated[str, typer.Argument(help="Serial number (AI 21)")]
RECORD_HELP: Final = (
    "GTIN (then the serial), or the Digital Link of an item, lot or logistic unit"
    " (path or URL, as its QR code holds it: /01/<gtin>/10/<lot>, /00/<sscc>)"
)
ITEM_OR_LOT_HELP: Final = (
    "GTIN (then the serial), or the Digital Link of an item or lot"
    " (path or URL, as its QR code holds it: /01/<gtin>/21/<serial>, /01/<gtin>/10/<lot>)"
)
RecordArg = Annotated[str, typer.Argument(help=RECORD_HELP)]
ItemOrLotArg = Annotated[str, typer.Argument(help=ITEM_OR_LOT_HELP)]
"""For what the registry does to items and lots only (attest, recall, loss, destruction)."""
ItemArg = Annotated[
    str,
    typer.Argument(
        help="GTIN (then the serial), or the item's Digital Link (path or URL, as its QR code holds"
        " it: /01/<gtin>/21/<serial>)"
    ),
]
OptionalSerial = Annotated[str | None, typer.Argument(help="Serial number (AI 21), after a GTIN")]

RECORD_KINDS = (KeyKind.ITEM, KeyKind.LOT, KeyKind.UNIT)
"""What a command about any record takes: an item, a lot or a logistic unit."""
ITEM_OR_LOT_KINDS = (KeyKind.ITEM, KeyKind.LOT)
"""What the registry attests, recalls, reports lost or found, or destroys: a unit's contents
keep their own status and attestations."""
ITEM_KINDS = (KeyKind.ITEM,)
UNIT_KINDS = (KeyKind.UNIT,)
_TAKES = {
    RECORD_KINDS: (
        "an item, lot or logistic unit",
        "the Digital Link (path or URL) of an item, lot or logistic unit,"
        " e.g. /01/09506000134352/10/L2026-11",
    ),
    ITEM_OR_LOT_KINDS: (
        "an item or lot (name a record packed in the unit)",
        "the Digital Link (path or URL) of an item or lot, e.g. /01/09506000134352/10/L2026-11",
    ),
    ITEM_KINDS: ("an item", "the item's Digital Link (path or URL), e.g. /01/09506000134352/21/DIA-0001"),
    UNIT_KINDS: ("a logistic unit", "the unit's Digital Link (path or URL), e.g. /00/106141412345678908"),
}
"""For each set of kinds a command takes: (what it names, the Digital Link it takes)."""


def named_link(first: str, serial: str | None, kinds: tuple[KeyKind, ...] = RECORD_KINDS) -> DigitalLink:
    """The Digital Link of the one record a command names, of one of `kinds`: by its GS1 key
    parts (an item's GTIN and serial; a unit's SSCC, for a command of units only) or by one
    Digital Link, path or URL, as its QR code holds it. Every command naming a record reads it
    here, so each takes what the Member's guide says: a Digital Link, in any command."""
    what, link_form = _TAKES[kinds]
    is_link = first.startswith(("/", "http://", "https://"))
    if serial is not None and is_link:
        fail(
            f"{first!r} is a Digital Link, which names the record by itself: give no serial after it"
            f" ({serial!r}), or give the GTIN and the serial",
            code=2,
        )
    if serial is not None:
        key = item_key(first, serial)
        link = DigitalLink(gtin=key.gtin, serial=key.serial)
    elif is_link:
        with clear_errors():
            link = parse_link(first)
    elif kinds == UNIT_KINDS:
        with clear_errors():
            link = DigitalLink(sscc=normalise_sscc(first))
    else:
        fail(f"{first!r}: give the serial after the GTIN, or {link_form}", code=2)
    if link.kind not in kinds:
        noun = link.kind.noun
        fail(
            f"{link.path} names {'an' if noun[0] in 'aeiou' else 'a'} {noun}, not {what}: give {link_form}",
            code=2,
        )
    record_id(link)  # a refusal naming its id names its path too
    return link


def item_of(first: str, serial: str | None) -> SerialisedItem:
    """The item a command about items only names (sell, claim, register): by GTIN and serial,
    or by its Digital Link (`named_link`)."""
    key = named_link(first, serial, ITEM_KINDS).serialised_item
    assert key is not None  # an item's link has a GTIN and a serial
    return key


def named_record(
    first: str, serial: str | None, kinds: tuple[KeyKind, ...] = RECORD_KINDS
) -> tuple[bytes, str]:
    """(on-chain id, Digital Link path) of the record a command names, of one of `kinds` (see
    `named_link`)."""
    link = named_link(first, serial, kinds)
    return record_id(link), link.path


def record_noun(path: str) -> str:
    """What the Digital Link `path` of a record names: item, lot or logistic unit."""
    return parse_link(path).kind.noun


RecordCall = Callable[[Chain, bytes, str], ContractFunction]
"""The registry call about a record (its id and Digital Link path) on a chain."""


def item_command(
    app: typer.Typer,
    name: str,
    function: str | RecordCall,
    done: str,
    doc: str,
    irreversible: Callable[[str], str] | None = None,
    units: bool = True,
) -> None:
    """Add command `name` to `app`: the account sends the registry's `function(record id)` (or
    the call `function` makes) for the record named by GTIN and serial or by a Digital Link
    (`named_record`; a logistic unit only where `units`); `done` (with {path}) reports it; `doc`
    is its help. A command that cannot be undone says so first, in `irreversible(path)`, and
    asks to continue (`--yes` skips it)."""
    record_help = RECORD_HELP if units else ITEM_OR_LOT_HELP

    def call(chain: Chain, record: bytes, path: str, yes: bool, account: str) -> ContractFunction:
        made = (
            function(chain, record, path)
            if callable(function)
            else chain.registry.functions[function](record)
        )
        if irreversible is not None:
            ask_irreversible(chain, made, account, irreversible(path), yes)
        return made

    def send_call(
        gtin: str, account: str, rpc: str, serial: str | None, registry: str | None, yes: bool
    ) -> None:
        record, path = named_record(gtin, serial, RECORD_KINDS if units else ITEM_OR_LOT_KINDS)
        transact(
            rpc, registry, account, lambda c: call(c, record, path, yes, account), done.format(path=path)
        )

    def command(
        gtin: Annotated[str, typer.Argument(help=record_help)],
        account: AccountOption,
        rpc: RpcOption,
        serial: OptionalSerial = None,
        registry: RegistryOption = None,
    ) -> None:
        send_call(gtin, account, rpc, serial, registry, yes=False)

    def confirmed_command(
        gtin: Annotated[str, typer.Argument(help=record_help)],
        account: AccountOption,
        rpc: RpcOption,
        serial: OptionalSerial = None,
        registry: RegistryOption = None,
        yes: YesOption = False,
    ) -> None:
        send_call(gtin, account, rpc, serial, registry, yes)

    chosen = command if irreversible is None else confirmed_command
    chosen.__doc__ = doc
    app.command(name)(chosen)


def ask_irreversible(chain: Chain, call: ContractFunction, account: str, what: str, yes: bool) -> None:
    """Ask to confirm `call`, which cannot be undone (`what` it does), once the node has run it
    from `account`'s address: what the registry would refuse is said first, nothing asked."""
    simulate(keystore_address(account), call)
    confirm_irreversible(what, yes)


def accept_call(chain: Chain, record: bytes, path: str) -> ContractFunction:
    """The registry's `acceptCustody(record)`, after refusing (nothing sent) an offer that expired.

    The registry checks the expiry against the time of the block that mines the transaction; a
    node checks a transaction before sending it on its latest block, as old as the last
    transaction on a chain that mines on demand: an expired offer passed that check, and the
    transaction was mined and reverted, its gas spent."""
    _, expires_at = chain.registry.functions.offerOf(record).call()
    if expires_at and chain_time(chain.w3) > expires_at:
        fail(f"the offer of {path} expired at {utc_time(expires_at)}: {OFFER_AGAIN}", code=2)
    return chain.registry.functions.acceptCustody(record)


def transact(
    rpc: str, registry: str | None, account: str, make_call: Callable[[Chain], ContractFunction], what: str
) -> TxReceipt:
    """Connect, sign `make_call(chain)` as `account`, send it, and report it as `what`."""
    with clear_errors():
        chain = open_chain(rpc, registry)
        call = make_call(chain)  # its checks and confirmation before the passphrase
        receipt = send(chain.w3, signer(account), call)
    report_tx(what, receipt)
    return receipt


def report_tx(what: str, receipt: TxReceipt) -> None:
    typer.echo(f"{what} (block {receipt['blockNumber']}, tx 0x{bytes(receipt['transactionHash']).hex()})")
