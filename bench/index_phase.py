"""One phase of the index benchmark, run in its own process: prints {"events", "seconds"} as JSON.

`indexer`: this project's indexer backfills the whole history into the database URL.
`baseline`: the naive way, web3.py `contract.events.X.get_logs` per event type and range,
then one ORM object inserted per log.
"""

import json
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from web3 import Web3

from app.chain.client import registry
from app.chain.deploy import Deployment, load_manifest
from app.db.engine import make_engine
from app.indexer.follow import Indexer

BASELINE_RANGE = 2000


def run_indexer(rpc_url: str, deployment: Deployment, db_url: str) -> dict[str, Any]:
    engine = make_engine(db_url)
    counted = [0]
    indexer = Indexer(rpc_url, engine, deployment, max_range=BASELINE_RANGE * 5)
    indexer.on_range = lambda _first, _last, events: counted.__setitem__(0, counted[0] + events)
    head = indexer.head()
    started = time.perf_counter()
    indexer.backfill(head)
    return {"events": counted[0], "seconds": time.perf_counter() - started}


def _plain(value: Any) -> Any:
    """A web3 event argument as JSON: bytes as hex, arrays (ItemsRegistered's ids) element-wise."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class _Base(DeclarativeBase):
    pass


class BaselineEvent(_Base):
    __tablename__ = "baseline_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)


def run_baseline(rpc_url: str, deployment: Deployment, db_url: str) -> dict[str, Any]:
    engine = create_engine(db_url)
    _Base.metadata.create_all(engine)
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 120}))
    contract = registry(w3, deployment.registry)
    names = [e["name"] for e in contract.abi if e["type"] == "event"]
    head = w3.eth.block_number
    started = time.perf_counter()
    events = 0
    for start in range(deployment.deploy_block, head + 1, BASELINE_RANGE):
        end = min(head, start + BASELINE_RANGE - 1)
        with Session(engine) as session:
            for name in names:
                for entry in contract.events[name].get_logs(from_block=start, to_block=end):
                    args = {k: _plain(v) for k, v in entry["args"].items()}
                    session.add(
                        BaselineEvent(
                            block_number=entry["blockNumber"],
                            tx_hash=entry["transactionHash"].hex(),
                            log_index=entry["logIndex"],
                            name=name,
                            args=args,
                        )
                    )
                    session.flush()  # one INSERT per row, as an ORM loop does
                    events += 1
            session.commit()
    return {"events": events, "seconds": time.perf_counter() - started}


def main() -> None:
    kind, rpc_url, manifest, db_url = sys.argv[1:5]
    deployment = load_manifest(Path(manifest))
    runner = run_indexer if kind == "indexer" else run_baseline
    print(json.dumps(runner(rpc_url, deployment, db_url)))


if __name__ == "__main__":
    main()
