"""Schemathesis against the gateway's /openapi.json, over the indexed demo journey.

Bounded: a few examples per operation, so it stays a few seconds inside `make test`.
Checks: no 5xx, responses match their documented schema, status codes and content types.
"""

from collections.abc import Iterator

import pytest
import schemathesis
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import Engine
from web3 import Web3

from app.api.main import create_app
from app.chain.client import dev_account, registry
from app.chain.deploy import deploy_registry
from app.core.config import Settings
from app.db.engine import make_engine
from app.demo.journey import seed_demo
from app.indexer.follow import Indexer
from app.relayer.service import Relayer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def gateway_schema(
    w3: Web3, operator: LocalAccount, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[schemathesis.schemas.BaseSchema]:
    data = tmp_path_factory.mktemp("schema")
    config = Settings(data_dir=data, deployments_dir=data, rate_limit_per_minute=0)
    engine: Engine = make_engine(config.resolved_database_url)
    deployment = deploy_registry(w3, operator)
    seed_demo(w3, registry(w3, deployment.registry), operator)
    Indexer(w3, engine, deployment).backfill()
    # With a real relayer (devnet account 9, as in the demo), so relay routes answer, not 503.
    relayer = Relayer(w3, registry(w3, deployment.registry), dev_account(9), engine)
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(config, engine, relayer))
    engine.dispose()


schema = schemathesis.pytest.from_fixture("gateway_schema")


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_openapi(case: schemathesis.Case) -> None:
    # A GTIN or SSCC check digit cannot be stated in JSON Schema, so a schema-valid key can
    # still be rejected with 400 and its reason; every other check runs.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
