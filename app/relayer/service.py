"""Check a signed handoff or consumer claim, then submit it once from the relayer's funded key."""

import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import requests
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound, Web3RPCError

from app.chain.client import connect, describe_revert, registry
from app.chain.deploy import load_manifest, manifest_path
from app.chain.handoffs import HandoffRequest, onchain_digest, signature_valid
from app.core.config import Settings
from app.db.schema import relay_requests

log = logging.getLogger(__name__)

MAX_IDS = 100
DROPPED = "dropped"
"""Status of a recorded request whose transaction the node knows nothing of: send it again."""
NODE_TIMEOUT_S = 10
"""Seconds a gateway's relayer waits for one answer of the node."""


@contextmanager
def _machine_lock(path: Path | None) -> Iterator[None]:
    """An exclusive lock on `path` across processes (none when None)."""
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class RelayRejected(Exception):
    """The signed handoff cannot be relayed; nothing was submitted."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


@dataclass(frozen=True)
class RelayReceipt:
    request_id: str
    tx_hash: str
    status: str
    """submitted, mined, failed or dropped"""
    block: int | None = None
    duplicate: bool = False


def request_id(request: HandoffRequest, from_signature: bytes, to_signature: bytes) -> str:
    """Identity of one signed message: the same signatures on the same handoff give the same id."""
    encoded = abi_encode(
        ["bytes32[]", "address", "address", "uint256", "bytes", "bytes"],
        [list(request.ids), request.sender, request.receiver, request.deadline, from_signature, to_signature],
    )
    return "0x" + keccak(encoded).hex()


class Relayer:
    """Validates signed handoffs against the chain and submits each distinct one exactly once."""

    def __init__(
        self,
        w3: Web3,
        registry: Contract,
        account: LocalAccount,
        engine: Engine,
        lock_file: Path | None = None,
    ) -> None:
        """`lock_file` serialises submissions across the processes of one machine that relay from
        `account` (the workers of `origintrace serve`): each takes the account's next nonce."""
        self.w3, self.registry, self.account, self.engine = w3, registry, account, engine
        self._lock = threading.Lock()
        self._lock_file = lock_file

    def relay(self, request: HandoffRequest, from_signature: bytes, to_signature: bytes) -> RelayReceipt:
        rid = request_id(request, from_signature, to_signature)

        def prepare() -> tuple[ContractFunction, str]:
            self._check(request, from_signature, to_signature)
            return self._call(request, from_signature, to_signature), request.sender

        return self._once(rid, prepare, request.receiver, request.ids)

    def relay_claim(self, item_id: bytes, to: str, signature: bytes) -> RelayReceipt:
        """Submit a consumer claim (`claim(item_id, to, signature)`, the claim code's signature
        naming `to`) for a shopper without gas; the registry checks the signature, and a claim
        it would refuse is not submitted."""
        rid = (
            "0x"
            + keccak(
                abi_encode(["string", "bytes32", "address", "bytes"], ["claim", item_id, to, signature])
            ).hex()
        )
        functions = self.registry.functions

        def prepare() -> tuple[ContractFunction, str]:
            custodian: str = functions.custodianOf(item_id).call()
            if int(custodian, 16) == 0:
                raise RelayRejected(404, "unknown_item", f"no record 0x{item_id.hex()} is registered")
            return functions.claim(item_id, to, signature), custodian

        return self._once(rid, prepare, to, (item_id,))

    def _once(
        self,
        rid: str,
        prepare: Callable[[], tuple[ContractFunction, str]],
        receiver: str,
        ids: Sequence[bytes],
    ) -> RelayReceipt:
        """Submit the request `rid` unless it was submitted before, remembered in the database so
        every gateway replica submits it once. `prepare` checks it and returns the call and the
        records' holder. A request whose transaction the node has never seen (`dropped`: lost on
        the way, or the gateway stopped before sending it) is checked and submitted again."""
        with self._lock:
            known = self._known(rid)
            if known is not None and known.status != DROPPED:
                return known
            call, sender = prepare()
            row = {
                "request_id": rid,
                "sender": sender,
                "receiver": receiver,
                "ids": ["0x" + i.hex() for i in ids],
            }
            return self._submit(call, row, replaces=known)

    def status(self, rid: str) -> RelayReceipt | None:
        """The request `rid` with its transaction's current state, or None if unknown."""
        with self.engine.connect() as conn:
            row = conn.execute(select(relay_requests).where(relay_requests.c.request_id == rid)).first()
        if row is None:
            return None
        try:
            receipt = self.w3.eth.get_transaction_receipt(row.tx_hash)
        except TransactionNotFound:
            try:
                self.w3.eth.get_transaction(row.tx_hash)
            except TransactionNotFound:
                return RelayReceipt(rid, row.tx_hash, DROPPED)
            return RelayReceipt(rid, row.tx_hash, "submitted")
        state = "mined" if receipt["status"] == 1 else "failed"
        return RelayReceipt(rid, row.tx_hash, state, block=receipt["blockNumber"])

    def _known(self, rid: str) -> RelayReceipt | None:
        found = self.status(rid)
        if found is None:
            return None
        return RelayReceipt(found.request_id, found.tx_hash, found.status, found.block, duplicate=True)

    def _check(self, request: HandoffRequest, from_signature: bytes, to_signature: bytes) -> None:
        if not 1 <= len(request.ids) <= MAX_IDS:
            raise RelayRejected(400, "invalid_handoff", f"a handoff moves 1 to {MAX_IDS} records")
        now = self.w3.eth.get_block("latest")["timestamp"]
        if request.deadline <= now:
            raise RelayRejected(
                400, "expired", f"the deadline {request.deadline} has passed (chain time {now})"
            )
        functions = self.registry.functions
        for record in request.ids:
            custodian = functions.custodianOf(record).call()
            if int(custodian, 16) == 0:
                raise RelayRejected(404, "unknown_item", f"no record 0x{record.hex()} is registered")
            if custodian != request.sender:
                raise RelayRejected(409, "not_custodian", f"{request.sender} does not hold 0x{record.hex()}")
        if not functions.isMember(request.receiver).call():
            raise RelayRejected(409, "not_member", f"{request.receiver} is not a consortium member")
        message_digest = onchain_digest(self.registry, request)
        for party, signature in ((request.sender, from_signature), (request.receiver, to_signature)):
            if not signature_valid(self.w3, party, message_digest, signature):
                nonce = functions.nonces(party).call()
                raise RelayRejected(
                    400,
                    "invalid_signature",
                    f"the signature of {party} does not sign this handoff at its current nonce {nonce} "
                    f"on chain {self.w3.eth.chain_id} and registry {self.registry.address} (nonce used "
                    "already, or signed for another handoff, chain or contract)",
                )

    def _call(self, request: HandoffRequest, from_signature: bytes, to_signature: bytes) -> Any:
        functions = self.registry.functions
        tail = (request.sender, request.receiver, request.deadline, from_signature, to_signature)
        if request.is_batch:
            return functions.handoffSignedBatch(list(request.ids), *tail)
        return functions.handoffSigned(request.ids[0], *tail)

    def _submit(
        self, call: ContractFunction, row: dict[str, Any], replaces: RelayReceipt | None
    ) -> RelayReceipt:
        """Send `call` from the relayer's key, recorded as `row` (in place of the dropped request
        `replaces`); a call the registry would refuse is a 409, unsent.

        The transaction is recorded under its hash before it goes out. A send that gets no
        answer from the node (a timeout, a dropped connection, a proxy's 502) may still have
        reached it, so the request stays recorded: a retry is answered with that transaction,
        never sent twice. If the node never got it, its status turns `dropped`, and a retry
        submits it again. A send the node answers with an error (no funds, nonce taken) is
        forgotten and a 502."""
        try:
            tx = call.build_transaction({"from": self.account.address})  # simulated, gas estimated
        except (ContractCustomError, ContractLogicError) as exc:
            data = HexBytes(exc.data) if isinstance(exc.data, str) else b""
            raise RelayRejected(409, "would_revert", describe_revert(self.registry.abi, data)) from None
        rid = row["request_id"]
        # Taking the next nonce, recording and sending wait for the other processes of the machine.
        with _machine_lock(self._lock_file):
            tx["nonce"] = self.w3.eth.get_transaction_count(self.account.address, "pending")
            signed = self.account.sign_transaction(cast(dict[str, Any], tx))
            tx_hash = "0x" + bytes(signed.hash).hex()
            try:
                with self.engine.begin() as conn:
                    if replaces is not None:
                        conn.execute(relay_requests.delete().where(relay_requests.c.request_id == rid))
                    conn.execute(
                        relay_requests.insert().values(tx_hash=tx_hash, created_at=int(time.time()), **row)
                    )
            except IntegrityError:  # another gateway replica is relaying it
                return self._known(rid) or RelayReceipt(rid, tx_hash, "submitted", duplicate=True)
            try:
                self.w3.eth.send_raw_transaction(signed.raw_transaction)
            except requests.RequestException as exc:
                log.warning(
                    "relay transaction %s: the node did not answer (%s); kept as submitted", tx_hash, exc
                )
            except Web3RPCError as exc:
                with self.engine.begin() as conn:
                    conn.execute(relay_requests.delete().where(relay_requests.c.tx_hash == tx_hash))
                error = (exc.rpc_response or {}).get("error")
                said = error.get("message") if isinstance(error, dict) else None
                detail = f"the chain's node refused the relayer's transaction: {said or exc.message}"
                raise RelayRejected(502, "node_refused", detail) from None
        return RelayReceipt(rid, tx_hash, "submitted")


def _rpc_url(settings: Settings) -> str:
    if not settings.rpc_url:
        raise ConnectionError("a relayer needs ORIGINTRACE_RPC_URL: the chain it sends to")
    return settings.rpc_url


def relay_target(settings: Settings) -> Contract:
    """The registry a gateway's relayer sends to: the deployment manifest's, on the chain of
    ORIGINTRACE_RPC_URL."""
    w3 = connect(_rpc_url(settings))
    return registry(w3, load_manifest(manifest_path(w3.eth.chain_id, settings.deployments_dir)).registry)


@dataclass(frozen=True)
class RelayerSetup:
    """What every process of a gateway needs to relay: the account's key and the registry
    address, checked against the chain once, at start (`relay_target`)."""

    key: bytes
    registry: str

    def relayer(self, settings: Settings, engine: Engine) -> Relayer:
        """The relayer of one gateway process, locked with the other processes of the machine
        that relay from the same account. It does not call the node: a node that is down when
        a process starts costs only the relay requests (503 until it answers), not the gateway.
        Each node call is tried once, for up to NODE_TIMEOUT_S: web3 by default tries a read
        five times on a timeout or an HTTP error, which with a 30 s timeout held a relay
        request (and its thread) for two and a half minutes on a node that hangs; the client
        retries instead (Retry-After). Raises ConnectionError without ORIGINTRACE_RPC_URL."""
        provider = Web3.HTTPProvider(
            _rpc_url(settings), request_kwargs={"timeout": NODE_TIMEOUT_S}, exception_retry_configuration=None
        )
        w3 = Web3(provider)
        account: LocalAccount = Account.from_key(self.key)
        lock_file = settings.data_dir / "relayer.lock"
        return Relayer(w3, registry(w3, self.registry), account, engine, lock_file)
