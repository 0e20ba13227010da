"""The one chain client: a Web3 connection plus signed, receipt-checked transactions."""

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from eth_abi.abi import decode as abi_decode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.abi import function_signature_to_4byte_selector
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted, Web3RPCError
from web3.types import TxReceipt

from app.chain.artifacts import artifact
from app.chain.devnet import DEV_MNEMONIC
from app.chain.record_types import STATUS_NAMES
from app.chain.roles import ROLES, role_id

Account.enable_unaudited_hdwallet_features()


class TransactionFailed(RuntimeError):
    """A transaction reverted; the message names the contract's custom error and its arguments.

    `function` is the contract function it called, when `send` sent it (hints to the user
    depend on it: the same error can mean different things of different functions)."""

    function: str = ""


class TransactionRefused(TransactionFailed):
    """The node would not take a transaction (e.g. its sender cannot pay for the gas)."""


class TransactionPending(TransactionRefused):
    """A transaction was sent but not mined in time: it may still be, so it must not be resent blind."""


RECEIPT_TIMEOUT_S = 120
"""How long a command waits for its transaction to be mined."""


def connect(rpc_url: str, timeout: float = 30) -> Web3:
    """A Web3 connection to `rpc_url`, checked to answer."""
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    if not w3.is_connected():
        raise ConnectionError(f"no Ethereum JSON-RPC node answers at {rpc_url}")
    return w3


def chain_time(w3: Web3) -> int:
    """The time the chain's next block will carry, at the earliest: its latest block's, or the
    clock's when later. A chain that mines only when there are transactions (anvil, QBFT) has
    a latest block as old as its last transaction, and expiries counted from it were past."""
    return max(int(w3.eth.get_block("latest")["timestamp"]), int(time.time()))


def dev_account(index: int) -> LocalAccount:
    """Funded account `index` of the devnet mnemonic (anvil's and Hardhat's default)."""
    account: LocalAccount = Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return account


def registry(w3: Web3, address: str) -> Contract:
    """The OriginRegistry at `address`."""
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifact("OriginRegistry").abi)


def _error_selectors(abi: Sequence[Mapping[str, Any]]) -> dict[bytes, tuple[str, list[Mapping[str, Any]]]]:
    selectors = {}
    for entry in abi:
        if entry["type"] == "error":
            signature = f"{entry['name']}({','.join(i['type'] for i in entry['inputs'])})"
            selectors[function_signature_to_4byte_selector(signature)] = (entry["name"], entry["inputs"])
    return selectors


def utc_time(timestamp: int) -> str:
    """Unix time `timestamp` as a person reads it, to the second: 2026-12-11 21:30:05 UTC (a
    deadline cut to the minute read as up to 59 s later than it is)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


_TIMES = ("expiresAt", "readyAt", "deadline")
"""Revert arguments that are unix times, shown with their date too."""
_ROLE_NAMES = {role_id(name): name for name in ROLES} | {b"\0" * 32: "admin"}


def _shown(abi_input: Mapping[str, Any], value: Any) -> str:
    """One revert argument as a person reads it: a status by name, a role by name, bytes as hex."""
    if abi_input.get("internalType") == "enum Status" and value < len(STATUS_NAMES):
        return STATUS_NAMES[value]
    if isinstance(value, bytes) and abi_input["name"] in ("role", "neededRole") and value in _ROLE_NAMES:
        return _ROLE_NAMES[value]
    if abi_input["name"] in _TIMES and 0 < value < 1 << 40:
        return f"{value} ({utc_time(value)})"
    return f"0x{value.hex()}" if isinstance(value, bytes) else str(value)


def node_said(exc: Web3RPCError) -> str:
    """The message of a JSON-RPC error the node answered with (web3's text if it had none)."""
    error = (exc.rpc_response or {}).get("error")
    said = error.get("message") if isinstance(error, dict) else None
    return str(said or exc.message)


def describe_revert(abi: Sequence[Mapping[str, Any]], data: bytes) -> str:
    """Human form of revert data, e.g. `RegistryNotCustodian(itemId=0x.., account=0x..)`."""
    known = _error_selectors(abi)
    if len(data) < 4 or data[:4] not in known:
        return f"reverted with unknown data 0x{data.hex()}"
    name, inputs = known[data[:4]]
    values = abi_decode([i["type"] for i in inputs], data[4:])
    shown = [f"{i['name']}={_shown(i, v)}" for i, v in zip(inputs, values, strict=True)]
    return f"{name}({', '.join(shown)})"


def _revert_data(exc: ContractLogicError) -> bytes:
    data = exc.data if isinstance(exc.data, str) else None
    return HexBytes(data) if data else b""


def send(w3: Web3, sender: LocalAccount, call: ContractFunction | ContractConstructor) -> TxReceipt:
    """Sign `call` with `sender`, send it and return its receipt; a revert raises TransactionFailed."""
    abi = call.abi if isinstance(call, ContractConstructor) else call.contract_abi
    try:
        try:
            tx = call.build_transaction(
                # "pending": a transaction of the same account still waiting in the node's pool
                # (another command a moment ago) keeps its nonce instead of being replaced.
                {"from": sender.address, "nonce": w3.eth.get_transaction_count(sender.address, "pending")}
            )
        except (ContractCustomError, ContractLogicError) as exc:
            raise TransactionFailed(describe_revert(abi, _revert_data(exc))) from None
        return sign_and_send(w3, sender, cast(dict[str, Any], tx), abi)
    except TransactionFailed as exc:
        exc.function = getattr(call, "fn_name", "constructor")
        raise


def simulate(sender: str, call: ContractFunction) -> None:
    """Raise TransactionFailed, as `send` would, when `call` from `sender` reverts on the node's
    latest block: a command that asks to confirm asks only what can be done. Nothing is signed."""
    try:
        call.estimate_gas({"from": sender})
    except (ContractCustomError, ContractLogicError) as exc:
        failed = TransactionFailed(describe_revert(call.contract_abi, _revert_data(exc)))
        failed.function = call.fn_name
        raise failed from None


def sign_and_send(
    w3: Web3, sender: LocalAccount, tx: dict[str, Any], abi: Sequence[Mapping[str, Any]] = ()
) -> TxReceipt:
    """Sign a complete transaction `tx`, send it, wait for its receipt.

    Raises TransactionRefused when the node refuses it (e.g. the sender cannot pay for gas),
    TransactionFailed when it reverts once mined: the reason is then found by running it again
    on the state of its block (its custom error decoded with `abi`). A transaction can pass its simulation and
    still revert: an offer or deadline may expire between the chain's last block and the next.
    """
    signed = sender.sign_transaction(tx)
    try:
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    except Web3RPCError as exc:
        said = node_said(exc)
        hint = "; fund the account" if "insufficient funds" in said.lower() else ""
        raise TransactionRefused(
            f"the node refused the transaction from {sender.address}: {said}{hint}"
        ) from None
    try:
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_S)
    except TimeExhausted:
        raise TransactionPending(
            f"transaction 0x{bytes(tx_hash).hex()} from {sender.address} was sent but is not mined after"
            f" {RECEIPT_TIMEOUT_S} s; it may still be: check it (cast receipt 0x{bytes(tx_hash).hex()})"
            " before sending it again"
        ) from None
    if receipt["status"] != 1:
        reason = _mined_revert(w3, tx, receipt["blockNumber"], abi)
        raise TransactionFailed(f"transaction 0x{bytes(receipt['transactionHash']).hex()} reverted{reason}")
    return receipt


def _mined_revert(w3: Web3, tx: dict[str, Any], block: int, abi: Sequence[Mapping[str, Any]]) -> str:
    """`: <custom error>` of a mined transaction that reverted, from running it again at its
    block (with that block's time); empty when the node gives no reason."""
    call = {key: tx[key] for key in ("from", "to", "data", "value", "gas") if key in tx}
    try:
        w3.eth.call(cast(Any, call), block_identifier=block)
    except (ContractCustomError, ContractLogicError) as exc:
        return ": " + describe_revert(abi, _revert_data(exc))
    except Exception:  # no reason to be had (node gone, pruned state): the failure stands without one
        return ""
    return ""
