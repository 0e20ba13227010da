"""Check a signed handoff or consumer claim, then submit it once from the relayer's funded key."""

import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from sqlalchemy import Engine, Row, or_, select
from sqlalchemy.exc import IntegrityError
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    RequestTimedOut,
    TransactionNotFound,
    Web3RPCError,
)
from web3.types import Nonce

from app.chain.client import chain_time, describe_revert, node_said
from app.chain.handoffs import HandoffRequest, onchain_digest, signature_valid
from app.db.engine import durable_transaction
from app.db.schema import relay_requests
from app.relayer.fees import Market, unsigned

log = logging.getLogger(__name__)

MAX_IDS = 100
DROPPED = "dropped"
"""Status of a request whose transaction can never be mined (its nonce was used by another):
sending the request again submits it anew."""


@contextmanager
def _machine_lock(path: Path | None, wait: bool = True) -> Iterator[bool]:
    """An exclusive lock on `path` across processes (none when None): yields whether it is held,
    which without `wait` is False when another process holds it."""
    if path is None:
        yield True
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


PAUSED_DETAIL = (
    "the consortium's admins have paused the registry: no handover or claim can be recorded until "
    "they unpause it; nothing was sent, send the same request again once it is unpaused "
    "(GET /healthz shows registry_paused_since)"
)


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


@dataclass(frozen=True)
class Unmined:
    """A relayed transaction the relayer's account has not mined yet."""

    request_id: str
    nonce: int
    signed_at: float


@dataclass(frozen=True)
class Backlog:
    """What an operator checks of a relayer: its account, funds and unmined transactions."""

    address: str
    balance_wei: int
    unmined: int
    oldest_signed_at: float | None
    """When the oldest unmined transaction was signed (Unix time)."""


@dataclass(frozen=True)
class RelayRow:
    """What a relay request records besides its transaction."""

    request_id: str
    sender: str
    """The records' holder."""
    receiver: str
    ids: tuple[str, ...]


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
        stuck_after_s: float = 60.0,
    ) -> None:
        """`lock_file` serialises submissions across the processes of one machine that relay from
        `account` (the workers of `origintrace serve`): each takes the account's next nonce.
        A transaction priced below the market is replaced after `stuck_after_s` (see `tend`)."""
        self.w3, self.registry, self.account, self.engine = w3, registry, account, engine
        self.stuck_after_s = stuck_after_s
        self._lock = threading.Lock()
        self._lock_file = lock_file
        self._tend_lock_file = None if lock_file is None else lock_file.with_suffix(".tend")

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
        """Submit the request `rid` once, remembered in the database so that gateway replicas
        sharing it answer a repeated request with the same transaction; `prepare` checks it and
        returns the call and the records' holder.

        A request submitted before is answered with its transaction, kept going as `tend` does
        (sent again if the node lacks it, replaced if priced below the market). One whose
        transaction can no longer be mined (`dropped`: its nonce went to another transaction) is
        checked and submitted anew.
        """
        with self._lock:
            row = self._row(rid)
            if row is not None:
                known = self._state(row)
                if known.status == "submitted" and row.raw_tx is not None:
                    return self._keep_going(rid)
                if known.status != DROPPED:
                    return replace(known, duplicate=True)
            call, sender = prepare()
            request = RelayRow(rid, sender, receiver, tuple("0x" + i.hex() for i in ids))
            return self._submit(call, request, replaces=None if row is None else row.tx_hash)

    def tend(self, stop: threading.Event | None = None) -> list[RelayReceipt]:
        """Keep the relayer's unmined transactions going, lowest nonce first (the gateway calls
        this every few seconds): one the node lacks is sent again, one that cannot pay the base
        fee is replaced at once, and one below the market's fees after `stuck_after_s` unmined.
        A replacement pays at least 12.5 % more of each fee and keeps the nonce, so only one of a
        request's transactions can be mined. Returns what each request's transaction is now
        (nothing while another process of the machine tends them); a request that fails (a send
        the node refuses, say) is logged and tried again at the next call. Stops between two
        requests once `stop` is set."""
        with _machine_lock(self._tend_lock_file, wait=False) as mine:
            if not mine:
                return []
            kept: list[RelayReceipt] = []
            for unmined in self._unmined():
                if stop is not None and stop.is_set():
                    break
                try:
                    with self._lock:
                        kept.append(self._keep_going(unmined.request_id))
                except RelayRejected as exc:
                    log.warning("relay request %s: %s", unmined.request_id, exc.detail)
                except Exception as exc:  # a database or node fault: the other requests go on
                    log.warning("relay request %s: cannot be checked: %s", unmined.request_id, exc)
            return kept

    def backlog(self) -> Backlog:
        """The relayer's account, its balance and its unmined transactions, from the node."""
        unmined = self._unmined()
        return Backlog(
            address=self.account.address,
            balance_wei=int(self.w3.eth.get_balance(self.account.address)),
            unmined=len(unmined),
            oldest_signed_at=min((u.signed_at for u in unmined), default=None),
        )

    def _unmined(self) -> list[Unmined]:
        """Requests of this chain whose transaction, signed by this relayer's account, has a
        nonce the account has not used yet: lowest nonce first. A request
        recorded before migration 0009 (no chain named) counts while the node has its
        transaction, which shows its chain; it is named then."""
        genesis, c = self.genesis(), relay_requests.c
        used = self.w3.eth.get_transaction_count(self.account.address, "latest")
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.request_id, c.nonce, c.raw_tx, c.tx_hash, c.genesis, c.signed_at, c.created_at)
                .where(c.nonce >= used, c.raw_tx.is_not(None), or_(c.genesis == genesis, c.genesis.is_(None)))
                .order_by(c.nonce)
            ).all()
        unmined = []
        for row in rows:
            if Account.recover_transaction(row.raw_tx) != self.account.address:
                continue  # signed by the account this relayer had before: counts for that one
            if row.genesis is None:
                if not self._node_has(row.tx_hash):
                    continue
                with self.engine.begin() as conn:
                    conn.execute(
                        relay_requests.update().where(c.request_id == row.request_id).values(genesis=genesis)
                    )
            unmined.append(Unmined(row.request_id, row.nonce, row.signed_at or row.created_at))
        return unmined

    def genesis(self) -> str:
        """The hash of the node's block 0: which chain this is, beyond its chain id (a restarted
        devnet keeps its chain id and starts over). Read at each use, as the node behind the
        relayer's URL may be restarted while the gateway runs."""
        return "0x" + bytes(self.w3.eth.get_block(0)["hash"]).hex()

    def status(self, rid: str) -> RelayReceipt | None:
        """The request `rid` with its transaction's current state, or None if unknown."""
        row = self._row(rid)
        return None if row is None else self._state(row)

    def _row(self, rid: str) -> Row[Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(select(relay_requests).where(relay_requests.c.request_id == rid)).first()

    def _state(self, row: Row[Any]) -> RelayReceipt:
        """Mined or failed (with its block); else `dropped` if the relayer's account has used the
        transaction's nonce (it can never be mined), else `submitted`. The nonce is read before
        the receipt: a transaction mined between the two reads is found mined. A request
        recorded before migration 0008 (no bytes kept) is dropped once the node lacks it. Of a
        request whose transaction was replaced (`tend`), the one mined is the one reported. One
        signed for another chain (a devnet since restarted) is dropped: that chain is gone."""
        if row.genesis is not None and row.genesis != self.genesis():
            return RelayReceipt(row.request_id, row.tx_hash, DROPPED)
        if row.raw_tx is not None:
            relayer = Account.recover_transaction(row.raw_tx)
            used = self.w3.eth.get_transaction_count(relayer, "latest") > row.nonce
        else:  # recorded after it was sent, before migration 0008: gone if the node lacks it
            used = not self._node_has(row.tx_hash)
        for tx_hash in (row.tx_hash, *(row.superseded or ())):
            try:
                receipt = self.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                continue
            state = "mined" if receipt["status"] == 1 else "failed"
            return RelayReceipt(row.request_id, tx_hash, state, block=receipt["blockNumber"])
        return RelayReceipt(row.request_id, row.tx_hash, DROPPED if used else "submitted")

    def _keep_going(self, rid: str) -> RelayReceipt:
        """The request `rid`'s transaction, replaced with higher fees if it cannot pay the base
        fee, or if it has waited `stuck_after_s` below the market's fees; else sent again (the
        same bytes) if the node lacks it. 202 if anything was sent."""
        with _machine_lock(self._lock_file):  # not between another's nonce and its send
            row = self._row(rid)  # as another process may have left it
            assert row is not None and row.raw_tx is not None
            known = self._state(row)
            if known.status != "submitted":
                return replace(known, duplicate=True)
            if Account.recover_transaction(row.raw_tx) == self.account.address:  # else not ours to re-sign
                tx = unsigned(row.raw_tx)
                market = Market.read(self.w3, legacy="gasPrice" in tx)
                waited = time.time() - (row.signed_at or row.created_at)  # signed_at: since 0009
                if market.refuses(tx) or (market.outbids(tx) and waited >= self.stuck_after_s):
                    return self._replace(row, market.replacement(tx))
            if self._node_has(row.tx_hash):
                return replace(known, duplicate=True)
            log.info("relay transaction %s: not on the node, sent again", row.tx_hash)
            self._send(row.raw_tx, row.tx_hash)
        return known

    def _replace(self, row: Row[Any], tx: dict[str, Any]) -> RelayReceipt:
        """Sign `tx` (the same nonce as `row`'s transaction, higher fees), record it in place of
        that one, which stays listed in `superseded`, and send it."""
        signed = self.account.sign_transaction(tx)
        tx_hash, raw_tx = "0x" + bytes(signed.hash).hex(), bytes(signed.raw_transaction)
        c = relay_requests.c
        with durable_transaction(self.engine) as conn:
            recorded = conn.execute(
                relay_requests.update()
                .where(c.request_id == row.request_id, c.tx_hash == row.tx_hash)
                .values(
                    tx_hash=tx_hash,
                    raw_tx=raw_tx,
                    signed_at=time.time(),
                    superseded=[*(row.superseded or ()), row.tx_hash],
                )
            ).rowcount
        if recorded != 1:  # another process replaced it first
            known = self.status(row.request_id)
            assert known is not None
            return replace(known, duplicate=True)
        log.info("relay transaction %s: priced below the chain's fees, replaced by %s", row.tx_hash, tx_hash)
        try:
            self._send(raw_tx, tx_hash)
        except RelayRejected:
            known = self.status(row.request_id)  # the one replaced may have been mined meanwhile
            if known is None or known.status == "submitted":
                raise
            return replace(known, duplicate=True)
        return RelayReceipt(row.request_id, tx_hash, "submitted")

    def _node_has(self, tx_hash: str) -> bool:
        try:
            self.w3.eth.get_transaction(HexStr(tx_hash))
        except TransactionNotFound:
            return False
        return True

    def _send(self, raw_tx: bytes, tx_hash: str) -> None:
        """Send a recorded transaction. Without an answer (a timeout, a dropped connection, a
        proxy's 502 or garbled reply) it may have reached the node: nothing to do but wait for
        `tend` or the client's retry, which send it again if the node lacks it. A node that
        answers with an error and does not have it is a 502 with the node's reason; the request
        stays recorded."""
        try:
            self.w3.eth.send_raw_transaction(raw_tx)
        except Web3RPCError as exc:
            if not isinstance(exc, RequestTimedOut) and not self._node_has(tx_hash):
                detail = (
                    f"the chain's node refused the relayer's transaction: {node_said(exc)}; "
                    "send the request again later and the relayer sends its transaction again"
                )
                raise RelayRejected(502, "node_refused", detail) from None
            log.warning("relay transaction %s: the node answered %s", tx_hash, exc)
        except Exception as exc:  # no answer, or none that says
            log.warning(
                "relay transaction %s: no answer from the node (%s); sent again on retry", tx_hash, exc
            )

    def _check(self, request: HandoffRequest, from_signature: bytes, to_signature: bytes) -> None:
        if not 1 <= len(request.ids) <= MAX_IDS:
            raise RelayRejected(400, "invalid_handoff", f"a handoff moves 1 to {MAX_IDS} records")
        now = chain_time(self.w3)
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

    def _submit(self, call: ContractFunction, request: RelayRow, replaces: str | None) -> RelayReceipt:
        """Sign `call` from the relayer's key, record it for `request` (in place of the dropped
        transaction `replaces`), then send it; a call the registry would refuse is a 409, unsent.
        Recorded first, a transaction is never lost track of: see `_once` and `_send`."""
        try:
            tx = call.build_transaction({"from": self.account.address})  # simulated, gas estimated
        except (ContractCustomError, ContractLogicError) as exc:
            data = HexBytes(exc.data) if isinstance(exc.data, str) else b""
            reason = describe_revert(self.registry.abi, data)
            if reason == "EnforcedPause()":
                raise RelayRejected(409, "registry_paused", PAUSED_DETAIL) from None
            raise RelayRejected(409, "would_revert", reason) from None
        # Taking the next nonce, recording and sending wait for the other processes of the machine.
        with _machine_lock(self._lock_file):
            tx["nonce"] = self._next_nonce()
            signed = self.account.sign_transaction(cast(dict[str, Any], tx))
            tx_hash, raw_tx = "0x" + bytes(signed.hash).hex(), bytes(signed.raw_transaction)
            if not self._record(request, tx_hash, tx["nonce"], raw_tx, replaces):
                known = self.status(request.request_id)
                if known is None:
                    raise RelayRejected(503, "relay_busy", "another gateway is relaying this request")
                return replace(known, duplicate=True)
            self._send(raw_tx, tx_hash)
        return RelayReceipt(request.request_id, tx_hash, "submitted")

    def _next_nonce(self) -> Nonce:
        """The node's next nonce for the relayer's account, or past the last of its recorded
        unmined transactions if more: one the node dropped (for its fees, say) keeps its nonce,
        as `tend` sends it again or replaces it, and no new transaction takes it meanwhile."""
        pending = self.w3.eth.get_transaction_count(self.account.address, "pending")
        return Nonce(max([pending, *(unmined.nonce + 1 for unmined in self._unmined())]))

    def _record(
        self, request: RelayRow, tx_hash: str, nonce: int, raw_tx: bytes, replaces: str | None
    ) -> bool:
        """Record the transaction of `request`; False if another replica recorded one first."""
        c = relay_requests.c
        try:
            with durable_transaction(self.engine) as conn:
                if replaces is not None:
                    old = relay_requests.delete().where(
                        c.request_id == request.request_id, c.tx_hash == replaces
                    )
                    if conn.execute(old).rowcount != 1:
                        return False
                conn.execute(
                    relay_requests.insert().values(
                        request_id=request.request_id,
                        sender=request.sender,
                        receiver=request.receiver,
                        ids=list(request.ids),
                        tx_hash=tx_hash,
                        nonce=nonce,
                        raw_tx=raw_tx,
                        created_at=int(time.time()),
                        signed_at=time.time(),
                        genesis=self.genesis(),
                    )
                )
        except IntegrityError:
            return False
        return True
