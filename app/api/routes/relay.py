"""Gasless handoffs and claims: the EIP-712 typed data to sign, and the relayer that submits them."""

import time
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from web3 import Web3

from app.api.errors import ApiError
from app.api.models import ErrorBody
from app.chain.handoffs import HandoffRequest, request_typed_data
from app.relayer.service import MAX_IDS, Relayer, RelayReceipt, RelayRejected

router = APIRouter(prefix="/api/v1", tags=["relayer"])
HEX32 = r"^0x[0-9a-fA-F]{64}$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
SIGNATURE = r"^0x([0-9a-fA-F]{2}){65,2048}$"
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "Bad signature, expired deadline or malformed handoff",
        422: "Invalid parameter; the detail says which",
        404: "Unknown item",
        409: "The registry would refuse it (custodian, membership, status)",
        429: "Too many relay requests from this client",
        502: "The chain's node answered with an error (node_error), or refused the relayer's "
        "transaction (node_refused: the relayer's funds, say; sending the request again sends "
        "its transaction again), or has no registry contract where the gateway's "
        "deployment says (no_registry)",
        503: "This gateway has no relayer, or the chain's node did not answer (Retry-After)",
    }.items()
}


class HandoffBody(BaseModel):
    """A handoff signed by both parties (see GET /api/v1/typed-data/handoff)."""

    ids: list[Annotated[str, Field(pattern=HEX32)]] = Field(min_length=1, max_length=MAX_IDS)
    sender: str = Field(alias="from", pattern=ADDRESS)
    receiver: str = Field(alias="to", pattern=ADDRESS)
    deadline: int = Field(ge=0, lt=2**64)
    from_signature: str = Field(pattern=SIGNATURE)
    to_signature: str = Field(pattern=SIGNATURE)

    def request(self) -> HandoffRequest:
        return HandoffRequest(
            ids=tuple(bytes.fromhex(i[2:]) for i in self.ids),
            sender=Web3.to_checksum_address(self.sender),
            receiver=Web3.to_checksum_address(self.receiver),
            deadline=self.deadline,
        )


class ClaimBody(BaseModel):
    """A consumer claim: the claim code's signature of Claim(id, to) (see app/chain/claims.py)."""

    item_id: str = Field(alias="id", pattern=HEX32)
    to: str = Field(pattern=ADDRESS, description="The new owner the signature names")
    signature: str = Field(pattern=SIGNATURE)


class RelayStatus(BaseModel):
    request_id: str
    tx_hash: str = Field(
        description="The request's transaction: the one mined once mined; before that, the "
        "latest (one priced below the market is replaced by one of higher fees and the same nonce)"
    )
    status: str = Field(
        description="submitted, mined, failed, or dropped: the relayer's account used the "
        "transaction's nonce for another, so it can never be mined; sending the request again "
        "submits it anew"
    )
    block: int | None = None


class RelayerOverview(BaseModel):
    """The gateway's relayer as an operator checks it: is it funded, is anything stuck."""

    address: str = Field(description="The account that signs and pays for relayed transactions")
    chain_id: int
    registry: str
    balance_wei: str = Field(description="The account's balance in wei (a decimal string: it exceeds 2^53)")
    unmined: int = Field(description="Relayed transactions not mined yet")
    oldest_unmined_s: float | None = Field(
        description="Seconds since the oldest unmined transaction was signed; null when none"
    )
    stuck_after_s: float = Field(
        description="Seconds a transaction below the market's fees waits before it is replaced"
    )


def _relayer(request: Request) -> Relayer:
    relayer: Relayer | None = request.app.state.relayer
    if relayer is None:
        raise ApiError(503, "no_relayer", "this gateway is not configured with a relayer")
    return relayer


def _status(receipt: RelayReceipt) -> RelayStatus:
    return RelayStatus(
        request_id=receipt.request_id, tx_hash=receipt.tx_hash, status=receipt.status, block=receipt.block
    )


@router.get(
    "/relay",
    response_model=RelayerOverview,
    responses=ERRORS,
    summary="The relayer's account, balance and unmined transactions",
)
def relayer_overview(request: Request) -> RelayerOverview:
    relayer = _relayer(request)
    backlog = relayer.backlog()
    oldest = None if backlog.oldest_signed_at is None else max(0.0, time.time() - backlog.oldest_signed_at)
    return RelayerOverview(
        address=backlog.address,
        chain_id=relayer.w3.eth.chain_id,
        registry=relayer.registry.address,
        balance_wei=str(backlog.balance_wei),
        unmined=backlog.unmined,
        oldest_unmined_s=None if oldest is None else round(oldest, 1),
        stuck_after_s=relayer.stuck_after_s,
    )


@router.get(
    "/typed-data/handoff",
    responses=ERRORS,
    summary="EIP-712 typed data of a handoff, for eth_signTypedData_v4",
)
def handoff_typed_data(
    request: Request,
    ids: Annotated[
        list[Annotated[str, Field(pattern=HEX32)]], Query(alias="id", min_length=1, max_length=MAX_IDS)
    ],
    sender: Annotated[str, Query(alias="from", pattern=ADDRESS)],
    receiver: Annotated[str, Query(alias="to", pattern=ADDRESS)],
    deadline: Annotated[
        int, Query(ge=0, lt=2**64, description="Unix time after which the signatures expire")
    ],
) -> dict[str, Any]:
    body = HandoffBody.model_validate(
        {
            "ids": ids,
            "from": sender,
            "to": receiver,
            "deadline": deadline,
            "from_signature": "0x" + "00" * 65,
            "to_signature": "0x" + "00" * 65,
        }
    )
    return request_typed_data(_relayer(request).registry, body.request())


relay_route = partial(router.post, status_code=202, response_model=RelayStatus, responses=ERRORS)
"""A POST that hands a signed request to the relayer: 202 once submitted (or its transaction
sent again), 200 when it was submitted before and the node has its transaction."""


@relay_route("/relay/handoffs", summary="Submit a handoff signed by both parties; the relayer pays the gas")
def relay_handoff(body: HandoffBody, request: Request) -> JSONResponse:
    from_signature, to_signature = (
        bytes.fromhex(body.from_signature[2:]),
        bytes.fromhex(body.to_signature[2:]),
    )
    return _relayed(request, lambda relayer: relayer.relay(body.request(), from_signature, to_signature))


@relay_route(
    "/relay/claims", summary="Submit a consumer claim signed with its claim code; the relayer pays the gas"
)
def relay_claim(body: ClaimBody, request: Request) -> JSONResponse:
    item_id, to = bytes.fromhex(body.item_id[2:]), Web3.to_checksum_address(body.to)
    signature = bytes.fromhex(body.signature[2:])
    return _relayed(request, lambda relayer: relayer.relay_claim(item_id, to, signature))


def _relayed(request: Request, submit: Callable[[Relayer], RelayReceipt]) -> JSONResponse:
    """202 with the status of what `submit` relayed (200 when it was relayed before), after the
    client's rate limit; a request the relayer refuses is its 4xx, with the reason."""
    relayer = _relayer(request)
    client = request.client.host if request.client else "unknown"
    request.app.state.relay_limiter.enforce(client, "too many relay requests; retry in a minute")
    try:
        receipt = submit(relayer)
    except RelayRejected as exc:
        raise ApiError(exc.status, exc.error, exc.detail) from None
    return JSONResponse(_status(receipt).model_dump(), status_code=200 if receipt.duplicate else 202)


@router.get(
    "/relay/claims/{request_id}",
    response_model=RelayStatus,
    responses=ERRORS,
    summary="Status of a relayed claim",
)
@router.get(
    "/relay/handoffs/{request_id}",
    response_model=RelayStatus,
    responses=ERRORS,
    summary="Status of a relayed handoff",
)
def relay_status(request_id: Annotated[str, Field(pattern=HEX32)], request: Request) -> RelayStatus:
    receipt = _relayer(request).status(request_id.lower())
    if receipt is None:
        raise ApiError(404, "not_found", f"no relayed request {request_id}")
    return _status(receipt)
