"""Shared fixtures: a real anvil devnet, fresh registry deployments, role-named members."""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine
from web3 import Web3
from web3.contract import Contract

from app.chain.client import connect, dev_account, registry
from app.chain.deploy import Deployment, deploy_registry
from app.chain.devnet import Devnet, running_devnet
from app.core.config import PROJECT_ROOT, Settings
from app.db.engine import make_engine
from app.demo.journey import Member, demo_members

# Tools from node_modules and the solc bridge, as `make` sets them, for subprocess tests.
os.environ["PATH"] = os.pathsep.join(
    [
        str(PROJECT_ROOT / "bin"),
        str(PROJECT_ROOT / "node_modules" / ".bin"),
        str(Path(sys.executable).parent),
        os.environ["PATH"],
    ]
)
os.environ.setdefault("SOLCX_BINARY_PATH", str(PROJECT_ROOT / ".solcx"))
os.environ.setdefault("APE_DATA_FOLDER", str(PROJECT_ROOT / ".ape"))


@pytest.fixture(scope="session")
def devnet() -> Iterator[Devnet]:
    with running_devnet("anvil") as node:
        yield node


@pytest.fixture(scope="session")
def w3(devnet: Devnet) -> Web3:
    return connect(devnet.rpc_url)


@pytest.fixture(scope="session")
def operator() -> LocalAccount:
    return dev_account(0)


@pytest.fixture(scope="session")
def members() -> dict[str, Member]:
    return demo_members()


@pytest.fixture
def brand(members: dict[str, Member]) -> LocalAccount:
    return members["brand"].account


@pytest.fixture
def retailer(members: dict[str, Member]) -> LocalAccount:
    return members["retailer"].account


@pytest.fixture
def deployment(w3: Web3, operator: LocalAccount) -> Deployment:
    """A fresh registry on the shared devnet, so tests never see each other's items."""
    return deploy_registry(w3, operator)


@pytest.fixture
def contract(w3: Web3, deployment: Deployment) -> Contract:
    return registry(w3, deployment.registry)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", deployments_dir=tmp_path / "deployments", port=8000)


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return make_engine(settings.resolved_database_url)
