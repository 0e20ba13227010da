"""`origintrace index`: connect, find the deployment, backfill with a progress bar, maybe follow."""

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from app.chain.deploy import load_manifest, manifest_path
from app.core.config import Settings
from app.db.engine import make_engine
from app.indexer.follow import Indexer, public_reason
from app.indexer.progress import BackfillProgress, use_json_logs
from app.indexer.rpc import RpcClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexJob:
    rpc_url: str | None
    database_url: str
    manifest: Path | None
    follow: bool
    to_block: int | None
    max_range: int
    progress: bool
    replace: bool = False
    """Clear a database that indexes a deployment on another chain (else refused)."""


def run_index(job: IndexJob, settings: Settings) -> None:
    """Run `job`; bad configuration raises ValueError/FileNotFoundError/ConnectionError with the fix.

    Once the node has answered, its faults are retried with backoff and a warning, in the
    backfill as while following: a slow answer must not end an indexer meant to run for days.
    Ctrl-C or SIGTERM (KeyboardInterrupt, SystemExit) stops it.
    """
    use_json_logs()
    if not job.rpc_url:
        raise ValueError("no chain to index: pass --rpc or set ORIGINTRACE_RPC_URL")
    rpc = RpcClient(job.rpc_url)
    try:
        chain_id = int(rpc.call("eth_chainId", []), 16)
    except Exception as exc:
        raise ConnectionError(
            f"no Ethereum JSON-RPC node answers at {job.rpc_url} ({public_reason(exc)})"
        ) from None
    deployment = load_manifest(job.manifest or manifest_path(chain_id, settings.deployments_dir))
    if deployment.chain_id != chain_id:
        raise ValueError(
            f"the manifest is for chain {deployment.chain_id}, but {job.rpc_url} is chain {chain_id}"
        )
    engine = make_engine(job.database_url)
    indexer = Indexer(
        job.rpc_url,
        engine,
        deployment,
        job.max_range,
        confirmations=settings.confirmations,
        rpc=rpc,
        replace=job.replace,
    )
    never = threading.Event()  # nothing sets it: the command ends by Ctrl-C or SIGTERM
    target = indexer.retrying(indexer.head, never) if job.to_block is None else job.to_block
    bar = BackfillProgress(indexer.next_block, target, enabled=job.progress)
    indexer.on_range = bar
    log.info("backfill started", extra={"from_block": indexer.next_block, "to_block": target})
    try:
        last = indexer.retrying(lambda: indexer.backfill(target), never)
    finally:
        bar.close()
    log.info("backfill done", extra={"last_block": last, "events": bar.events})
    if job.follow:
        indexer.on_range = None
        log.info("following the chain head", extra={"poll_interval_s": settings.poll_interval})
        indexer.run(never, settings.poll_interval)
