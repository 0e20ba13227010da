"""Shared fixtures: a real anvil devnet, fresh registry deployments, role-named members."""

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
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


@contextmanager
def served(app: Any, port: int, lifespan: str = "auto") -> Iterator[str]:
    """`app` served by uvicorn on 127.0.0.1:`port` in a thread while the block runs; its URL
    (`lifespan="off"` for an app a TestClient has started already)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        threading.Event().wait(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def same_minute() -> None:
    """For a test whose requests must fall in one clock minute (scan counts and rate limits
    are per minute): when fewer than 20 s of this minute are left, start in the next one."""
    left = 60 - time.time() % 60
    if left < 20:
        time.sleep(left + 0.05)


@pytest.fixture(scope="session")
def devnet() -> Iterator[Devnet]:
    with running_devnet("anvil") as node:
        yield node


OwnChain = tuple[Web3, Contract, Deployment, dict[str, Member]]


@pytest.fixture
def own_chain() -> Iterator[OwnChain]:
    """An anvil of the test's own (for what must not disturb the shared devnet: reorgs, mining
    control), a registry deployed and the demo members admitted."""
    from app.demo.journey import admit_members

    with running_devnet("anvil") as node:
        w3 = connect(node.rpc_url)
        deployment = deploy_registry(w3, dev_account(0))
        contract = registry(w3, deployment.registry)
        members = demo_members()
        admit_members(w3, contract, dev_account(0), members)
        yield w3, contract, deployment, members


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


# ---------------------------------------------------------------- the CLI on the shared devnet
PASSPHRASE = "correct horse battery"
"""The keystores' passphrase in CLI tests (ORIGINTRACE_PASSPHRASE of `run`)."""


@pytest.fixture
def run(tmp_path: Path, deployment: Deployment, devnet: Devnet):  # type: ignore[no-untyped-def]
    """`origintrace ARGS` (chain commands on the test's registry, keystores in tmp_path/ape),
    asserting exit 0 unless `ok=False`; its result."""
    from typer.testing import CliRunner

    from app.cli import cli

    runner = CliRunner()
    env = {
        "APE_DATA_FOLDER": str(tmp_path / "ape"),
        "ORIGINTRACE_PASSPHRASE": PASSPHRASE,
        "ORIGINTRACE_RPC_URL": devnet.rpc_url,
    }

    def invoke(*args: str, input: str | None = None, ok: bool = True):  # type: ignore[no-untyped-def]
        result = runner.invoke(
            cli,
            [*args, "--registry", deployment.registry]
            if args[0] in ("items", "custody", "members")
            else list(args),
            env=env,
            input=input,
        )
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


@pytest.fixture
def consortium(w3: Web3, contract: Contract, operator: LocalAccount, members: dict[str, Member], run):  # type: ignore[no-untyped-def]
    """The demo members admitted on the test's registry, with keystores for brand, certifier and carrier."""
    from app.demo.journey import admit_members

    admit_members(w3, contract, operator, members)
    for role in ("brand", "certifier", "carrier"):  # each keystore costs a scrypt run
        member = members[role]
        result = run("accounts", "import", role, input=member.account.key.hex() + "\n")
        assert member.account.address in result.output
        assert member.account.key.hex() not in result.output
    return members


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", deployments_dir=tmp_path / "deployments", port=8000)


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return make_engine(settings.resolved_database_url)


# ---------------------------------------------------------------- indexer databases
# The indexer suite runs on SQLite and on the real PostgreSQL at 127.0.0.1:5432. PostgreSQL is
# shared with other sessions, so each session works in its own database, dropped at the end.

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    import secrets

    import psycopg

    try:
        admin = psycopg.connect(PG_DSN, autocommit=True)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL answers on 127.0.0.1:5432 ({exc}); start it, or set CI=1 to fail")
    name = f"ot_{secrets.token_hex(6)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind: a SQLite file, or the session's PostgreSQL database reset."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.db'}"
    import psycopg

    url: str = request.getfixturevalue("postgres_url")
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url


@pytest.fixture
def index_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()
