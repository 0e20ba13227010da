"""`origintrace up` (what `make demo` runs): devnet, deploy, demo journey, indexer, gateway."""

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from web3 import Web3

from app.api.main import create_app
from app.api.places import PlaceDirectory
from app.api.server import bind_sockets, check_port_free, run_server
from app.chain.client import connect, dev_account, registry
from app.chain.deploy import Deployment, deploy_registry, manifest_path, write_manifest
from app.chain.devnet import running_devnet
from app.core.config import Settings, lot_store
from app.db.engine import make_engine
from app.demo.journey import (
    PALLET,
    RECALLED,
    SKINCARE_LOT,
    demo_place_directory,
    seed_demo,
    seed_mass_market,
)
from app.gs1.qr import write_qr_png
from app.indexer.follow import Indexer
from app.relayer.service import Relayer

log = logging.getLogger(__name__)
RELAYER_ACCOUNT = 9
"""Devnet account that relays signed handoffs and pays their gas in the demo."""


@contextmanager
def chain(settings: Settings) -> Iterator[tuple[str, str]]:
    """(rpc url, description) of ORIGINTRACE_RPC_URL, or of a devnet started for this run."""
    if settings.rpc_url:
        yield settings.rpc_url, "ORIGINTRACE_RPC_URL"
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_file = settings.data_dir / f"{settings.devnet}.log"
    with running_devnet(settings.devnet, log_file=log_file) as devnet:
        yield devnet.rpc_url, f"{settings.devnet}, started for this run (log: {log_file})"


@contextmanager
def following(w3: Web3, engine: Engine, deployment: Deployment, settings: Settings) -> Iterator[Indexer]:
    """An indexer, caught up, following the chain head in a thread until the block exits."""
    indexer = Indexer(
        w3, engine, deployment, max_range=settings.max_block_range, confirmations=settings.confirmations
    )
    indexer.backfill()
    stop = threading.Event()
    thread = threading.Thread(
        target=indexer.run, args=(stop, settings.poll_interval), name="indexer", daemon=True
    )
    thread.start()
    try:
        yield indexer
    finally:
        stop.set()
        thread.join(timeout=10)


def write_demo_places(data_dir: Path) -> Path:
    """The demo members' place directory, as a JSON file in `data_dir` (for `places_file`)."""
    path = data_dir / "places.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(demo_place_directory(), indent=2, ensure_ascii=False) + "\n")
    return path


def up(settings: Settings) -> None:
    """Start (or attach to) a chain, deploy, seed the demo, index it and serve the gateway."""
    check_port_free(settings.host, settings.port)
    if settings.rpc_url is None:
        # A single-node devnet of our own has no reorgs: a mined fact is final.
        settings = settings.model_copy(update={"confirmations": 1})
    if settings.places_file is None:
        settings = settings.model_copy(update={"places_file": write_demo_places(settings.data_dir)})
    PlaceDirectory.load(settings.places_file)  # a wrong directory fails now, not after the deploy
    with chain(settings) as (rpc_url, chain_description):
        w3 = connect(rpc_url)
        operator = dev_account(0)
        deployment = deploy_registry(w3, operator)
        manifest = write_manifest(deployment, settings.deployments_dir)
        diamond = seed_demo(w3, registry(w3, deployment.registry), operator)
        store = lot_store(settings, deployment.chain_id, deployment.registry)
        seed_mass_market(w3, registry(w3, deployment.registry), store)
        url = settings.base_url + diamond.path
        qr_file = write_qr_png(url, settings.data_dir / "qr" / f"{diamond.serial}.png")
        engine = make_engine(settings.resolved_database_url)
        with following(w3, engine, deployment, settings):
            banner = "\n".join(
                [
                    "",
                    "OriginTrace is up.",
                    f"  chain     {rpc_url} ({chain_description}), chain id {deployment.chain_id}",
                    f"  registry  {deployment.registry} (manifest: {manifest})",
                    f"  database  {settings.resolved_database_url}",
                    f"  places    {settings.places_file}",
                    f"  gateway   {settings.base_url}  (API docs: {settings.base_url}/docs)",
                    "",
                    f"  Diamond shopper page:  {url}",
                    f"  Its QR code (PNG):     {qr_file}",
                    f"  As JSON:               curl -H 'Accept: application/json' {url}",
                    f"  Skincare lot (1,000):  {settings.base_url}{SKINCARE_LOT.path}",
                    f"  One item of the lot:   {settings.base_url}{SKINCARE_LOT.path}/21/SK-0001",
                    f"  Pallet (SSCC):         {settings.base_url}{PALLET.path}",
                    f"  Recalled item:         {settings.base_url}{RECALLED.path}",
                    "",
                    "Press Ctrl-C to stop; every process started here stops with it.",
                ]
            )
            relayer = Relayer(
                w3,
                registry(w3, deployment.registry),
                dev_account(RELAYER_ACCOUNT),
                engine,
                stuck_after_s=settings.relay_stuck_after_s,
            )
            sockets = bind_sockets(settings.host, settings.port, 1)
            run_server(create_app(settings, engine, relayer), sockets, lambda: print(banner, flush=True))
    log.info("stopped; manifest kept at %s", manifest_path(deployment.chain_id, settings.deployments_dir))
