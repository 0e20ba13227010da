"""`ape run deploy` deploys through ape's network and writes the manifest."""

import json
import os
import subprocess
from pathlib import Path

from web3 import Web3

from app.chain.artifacts import artifact
from app.core.config import PROJECT_ROOT


def test_ape_run_deploy_writes_a_complete_manifest(tmp_path: Path) -> None:
    env = {**os.environ, "ORIGINTRACE_DEPLOYMENTS_DIR": str(tmp_path)}
    result = subprocess.run(
        ["ape", "run", "deploy", "--network", "ethereum:local:foundry"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((tmp_path / "31337.json").read_text())
    registry = manifest["contracts"]["OriginRegistry"]
    assert Web3.is_checksum_address(registry["address"])
    assert registry["deployBlock"] >= 1
    assert registry["txHash"] in result.stdout
    assert manifest["compiler"]["solc"] == "0.8.28"
    assert manifest["compiler"]["settings"]["optimizer"] == {"enabled": True, "runs": 200}
    assert manifest["deployer"] == registry["constructorArgs"]["admin"]


def test_deploy_refuses_a_remote_network_without_an_account() -> None:
    result = subprocess.run(
        ["ape", "run", "deploy", "--network", "ethereum:sepolia"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr


def test_deployed_code_is_the_compiled_registry(w3: Web3, deployment) -> None:  # type: ignore[no-untyped-def]
    compiled = artifact("OriginRegistry")
    code = w3.eth.get_code(deployment.registry)
    assert compiled.immutable_ranges, "EIP-712 caches its domain in immutables"
    assert "0x" + compiled.mask_immutables(bytes(code)).hex() == compiled.deployed_bytecode
