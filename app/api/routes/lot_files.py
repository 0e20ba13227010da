"""Lot files sent to the gateway and read from it: a member whose `origintrace lots anchor` ran on
another machine publishes its lots' trees here (`origintrace lots push`), so the gateway can
prove their items; `origintrace verify` reads the files of the lots split off an item's lot, to
check for itself, against their roots on chain, whether the item left with one of them.

Anyone may send one: a file is taken only when it is the whole tree of a lot indexed from the
chain, hashed again to the root anchored there (app/scale/store.py `check_lot_file`), so a file
that is taken proves exactly what the lot's brand anchored, whoever sent it. It is received
into a temporary file beside the lot store (never whole in memory), checked (one at a time, and
only a file of the count the lot was anchored with: a made-up file costs no hashing), then
renamed into place, so the gateway's readers see the old file or the new one, never part of one.
"""

import os
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any, Final, NamedTuple

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.api.errors import ApiError
from app.api.items import indexed_lot_store
from app.api.lots import created_record
from app.api.models import ErrorBody
from app.api.routes.api_v1 import ItemId
from app.indexer.status import indexer_status
from app.scale.store import MAX_LOT_FILE_BYTES, LotFileError, StoredLot, check_lot_file, lot_path

router = APIRouter(
    prefix="/api/v1",
    tags=["lot files"],
    responses={422: {"model": ErrorBody, "description": "Invalid parameter; the detail says which"}},
)
TOO_LARGE: Final = ApiError(
    413, "body_too_large", f"a lot file may hold at most {MAX_LOT_FILE_BYTES:,} bytes"
)
UPLOAD_SUFFIX: Final = ".upload"
INCOMING: Final = ".incoming"
"""Where files are received, beside the lot stores (`lots/.incoming`), not in one: a received
file never changes a store's folder (whose mtime keys the gateway's index of its lot files)."""
STALE_UPLOAD_S: Final = 3600
"""A received file not written to for this long was left by a gateway that died mid-upload (one
being received is written to as it arrives)."""
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        404: "No lot with that id is indexed (anchor it first, and let the gateway index it)",
        413: f"The file is larger than {MAX_LOT_FILE_BYTES:,} bytes",
        422: "Not the tree of that lot as anchored on chain (invalid_lot_file: the detail says why)",
        429: "Too many requests from this client",
        503: "The gateway has not indexed the chain yet, or lacks the memory to check the file now",
    }.items()
}


class LotFileStored(BaseModel):
    lot_id: str
    gtin: str
    lot: str
    items: int = Field(description="How many items the lot holds (each now resolves with its proof)")
    root: str = Field(description="The Merkle root, as anchored on chain")
    stored: bool = Field(description="False when the gateway held this lot's file already")


@router.get(
    "/items/{lot_id}/lot-file",
    response_class=FileResponse,
    responses={
        200: {
            "content": {"application/octet-stream": {}},
            "description": "The lot file (app/scale/store.py)",
        },
        404: {"model": ErrorBody, "description": "The gateway holds no file of that lot"},
        429: {"model": ErrorBody, "description": "Too many requests from this client"},
    },
    summary="A lot's file, as the gateway proves its items from it (check it against the root on chain)",
)
def get_lot_file(lot_id: ItemId, request: Request) -> FileResponse:
    _limit(request)
    with request.app.state.reads.read() as conn:
        store = indexed_lot_store(request.app.state.settings, indexer_status(conn))
    path = lot_path(store, bytes.fromhex(lot_id[2:])) if store is not None else None
    if path is None or not path.is_file():
        raise ApiError(404, "not_found", f"the gateway holds no file of lot {lot_id}")
    return FileResponse(path, media_type="application/octet-stream", filename=path.name)


class Anchored(NamedTuple):
    """A lot as its anchoring on chain has it: the root, and the count it was anchored with (a
    split lowers the record's count, not its file's)."""

    root: bytes
    items: int


_CHECKING: Final = threading.Lock()
"""One lot file hashed at a time in a gateway process (the checks wait in their worker threads):
the largest take a few hundred MB and a second of CPU."""


@router.put(
    "/items/{lot_id}/lot-file",
    status_code=201,
    response_model=LotFileStored,
    responses={
        200: {"model": LotFileStored, "description": "The gateway held this lot's file already"},
        **ERRORS,
    },
    summary="Send the gateway a lot's file (the body: the .otl file `origintrace lots anchor` wrote)",
)
async def put_lot_file(lot_id: ItemId, request: Request) -> JSONResponse:
    state = request.app.state
    _limit(request)
    lot = bytes.fromhex(lot_id[2:])
    with state.reads.read() as conn:
        found = created_record(conn, lot, "lot")
        store = indexed_lot_store(state.settings, indexer_status(conn))
    if found is None or found[0].lot_root is None:
        raise ApiError(404, "not_found", f"no lot {lot_id} is indexed: anchor it, then send its file")
    if store is None:
        raise ApiError(503, "not_indexed", "the gateway has not indexed the chain yet")
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_LOT_FILE_BYTES:
        raise TOO_LARGE
    root = found[0].lot_root
    anchored = Anchored(bytes.fromhex(root.removeprefix("0x")), int(found[1].args["count"]))
    incoming = store.parent / INCOMING
    incoming.mkdir(parents=True, exist_ok=True)
    _remove_stale_uploads(incoming)
    handle, name = tempfile.mkstemp(prefix=f"{lot_id[2:]}.", suffix=UPLOAD_SUFFIX, dir=incoming)
    received = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_LOT_FILE_BYTES:
                    raise TOO_LARGE
                out.write(chunk)
        header, stored = await run_in_threadpool(_store, received, lot_path(store, lot), anchored)
    finally:
        received.unlink(missing_ok=True)
    body = LotFileStored(
        lot_id=lot_id, gtin=header.gtin, lot=header.lot, items=header.count, root=root, stored=stored
    )
    return JSONResponse(body.model_dump(), status_code=201 if stored else 200)


def _limit(request: Request) -> None:
    """Count the request against its client's limit, as a resolution is."""
    state, client = request.app.state, request.client.host if request.client else "-"
    state.limiter.enforce(client, f"more than {state.settings.rate_limit_per_minute} requests a minute")


def _remove_stale_uploads(incoming: Path) -> None:
    """Delete the received files a gateway that died mid-upload left in `incoming`."""
    cutoff = time.time() - STALE_UPLOAD_S
    for left in incoming.glob(f"*{UPLOAD_SUFFIX}"):
        with suppress(FileNotFoundError):
            if left.stat().st_mtime < cutoff:
                left.unlink()


def _store(received: Path, target: Path, anchored: Anchored) -> tuple[StoredLot, bool]:
    """Check the `received` file against the lot as `anchored` and move it to `target`, unless the
    file there already is a good one; its header, and whether it was moved."""
    lot_id = bytes.fromhex(target.name.removesuffix(target.suffix))
    try:
        with _CHECKING:
            header = check_lot_file(received, lot_id, anchored.root, anchored.items)
    except LotFileError as exc:
        detail = f"not the tree of lot 0x{lot_id.hex()} as anchored: {exc}"
        raise ApiError(422, "invalid_lot_file", detail) from None
    except MemoryError:
        raise ApiError(
            503, "busy", "the gateway lacks the memory to check this lot file now: try later"
        ) from None
    try:
        check_lot_file(target, lot_id, anchored.root, anchored.items)
        return header, False
    except (LotFileError, FileNotFoundError):
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(received, target)
        return header, True
