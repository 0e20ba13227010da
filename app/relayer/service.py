"""Check a signed handoff or consumer claim, then submit it once from the relayer's funded key."""

import fcntl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

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
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound

from app.chain.client import connect, describe_revert, registry
from app.chain.deploy import load_manifest, manifest_path
from app.chain.handoffs import HandoffRequest, onchain_digest, signature_valid
from app.core.config import Settings
from app.db.schema import relay_requests

MAX_IDS = 100
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
    """submitted, mined or failed"""
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

        def submit() -> tuple[str, str]:
            self._check(request, from_signature, to_signature)
            return self._submit(self._call(request, from_signature, to_signature)), request.sender

        return self._once(rid, submit, request.receiver, request.ids)

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

        def submit() -> tuple[str, str]:
            custodian: str = functions.custodianOf(item_id).call()
            if int(custodian, 16) == 0:
                raise RelayRejected(404, "unknown_item", f"no record 0x{item_id.hex()} is registered")
            return self._submit(functions.claim(item_id, to, signature)), custodian

        return self._once(rid, submit, to, (item_id,))

    def _once(
        self, rid: str, submit: Callable[[], tuple[str, str]], receiver: str, ids: Sequence[bytes]
    ) -> RelayReceipt:
        """Submit the request `rid` unless it was submitted before, with `submit` (which checks
        first, and returns the transaction and the records' holder); remembered in the database
        so every gateway replica submits it once."""
        with self._lock:
            known = self._known(rid)
            if known is not None:
                return known
            tx_hash, sender = submit()
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        relay_requests.insert().values(
                            request_id=rid,
                            tx_hash=tx_hash,
                            sender=sender,
                            receiver=receiver,
                            ids=["0x" + i.hex() for i in ids],
                            created_at=int(time.time()),
                        )
                    )
            except IntegrityError:  # another gateway replica relayed it first
                pass
        return RelayReceipt(rid, tx_hash, "submitted")

    def status(self, rid: str) -> RelayReceipt | None:
        """The request `rid` with its transaction's current state, or None if unknown."""
        with self.engine.connect() as conn:
            row = conn.execute(select(relay_requests).where(relay_requests.c.request_id == rid)).first()
        if row is None:
            return None
        try:
            receipt = self.w3.eth.get_transaction_receipt(row.tx_hash)
        except TransactionNotFound:
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

    def _submit(self, call: ContractFunction) -> str:
        """Send `call` from the relayer's key; a call the registry would refuse is a 409, unsent."""
        try:
            tx = call.build_transaction({"from": self.account.address})  # simulated, gas estimated
        except (ContractCustomError, ContractLogicError) as exc:
            data = HexBytes(exc.data) if isinstance(exc.data, str) else b""
            raise RelayRejected(409, "would_revert", describe_revert(self.registry.abi, data)) from None
        # Only taking the next nonce and sending wait for the other processes of the machine.
        with _machine_lock(self._lock_file):
            tx["nonce"] = self.w3.eth.get_transaction_count(self.account.address, "pending")
            signed = self.account.sign_transaction(cast(dict[str, Any], tx))
            return "0x" + bytes(self.w3.eth.send_raw_transaction(signed.raw_transaction)).hex()


def relay_target(settings: Settings) -> Contract:
    """The registry a gateway's relayer sends to: the deployment manifest's, on the chain of
    ORIGINTRACE_RPC_URL."""
    if not settings.rpc_url:
        raise ConnectionError("a relayer needs ORIGINTRACE_RPC_URL: the chain it sends to")
    w3 = connect(settings.rpc_url)
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
        retries instead (Retry-After)."""
        provider = Web3.HTTPProvider(
            settings.rpc_url, request_kwargs={"timeout": NODE_TIMEOUT_S}, exception_retry_configuration=None
        )
        w3 = Web3(provider)
        account: LocalAccount = Account.from_key(self.key)
        lock_file = settings.data_dir / "relayer.lock"
        return Relayer(w3, registry(w3, self.registry), account, engine, lock_file)
