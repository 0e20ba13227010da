"""`ape run deploy` deploys through ape's network and writes the manifest."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from web3 import Web3

from app.chain.artifacts import artifact
from app.core.config import PROJECT_ROOT


def ape_deploy(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`ape run deploy ARGS` in the project, with its output captured."""
    return subprocess.run(
        ["ape", "run", "deploy", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_ape_run_deploy_writes_a_complete_manifest(tmp_path: Path) -> None:
    from app.chain.devnet import free_port

    # ape-foundry starts its anvil on a port it draws at random without checking that it is
    # free; when a busy suite holds that port the anvil exits and ape waits out its fixed
    # 20 s start timeout. APE_FOUNDRY_HOST gives it a port that is free: ape still starts
    # and stops the node itself.
    result = ape_deploy(
        "--network",
        "ethereum:local:foundry",
        env={
            **os.environ,
            "ORIGINTRACE_DEPLOYMENTS_DIR": str(tmp_path),
            "APE_FOUNDRY_HOST": f"http://127.0.0.1:{free_port()}",
        },
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


def test_deploy_to_a_remote_network_needs_an_account(devnet) -> None:  # type: ignore[no-untyped-def]
    # A network given by URL is not a local test network: ape's test accounts are refused there.
    result = ape_deploy("--network", devnet.rpc_url)
    assert result.returncode == 2
    assert "--account is required outside local networks" in result.stderr


def test_deployed_code_is_the_compiled_registry(w3: Web3, deployment) -> None:  # type: ignore[no-untyped-def]
    compiled = artifact("OriginRegistry")
    code = w3.eth.get_code(deployment.registry)
    assert compiled.immutable_ranges, "EIP-712 caches its domain in immutables"
    assert "0x" + compiled.mask_immutables(bytes(code)).hex() == compiled.deployed_bytecode


def test_testnet_path_deploys_with_a_keystore_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A testnet deployment by RPC URL and keystore account, against anvil posing as Sepolia."""
    from app.chain.client import dev_account
    from app.chain.devnet import running_devnet
    from app.chain.keystore import save_account

    env = {
        **os.environ,
        "APE_DATA_FOLDER": str(tmp_path / "ape"),
        "ORIGINTRACE_DEPLOYMENTS_DIR": str(tmp_path),
        "ORIGINTRACE_PASSPHRASE": "testnet deployer passphrase",
    }
    deployer = dev_account(7)
    with running_devnet("anvil", chain_id=11155111) as sepolia:
        monkeypatch.setenv("APE_DATA_FOLDER", env["APE_DATA_FOLDER"])
        save_account("deployer", deployer, env["ORIGINTRACE_PASSPHRASE"])
        result = ape_deploy("--network", sepolia.rpc_url, "--account", "deployer", env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        manifest = json.loads((tmp_path / "11155111.json").read_text())
        assert manifest["chainId"] == 11155111
        assert manifest["deployer"] == deployer.address
        code = Web3(Web3.HTTPProvider(sepolia.rpc_url)).eth.get_code(
            manifest["contracts"]["OriginRegistry"]["address"]
        )
        compiled = artifact("OriginRegistry")
        assert "0x" + compiled.mask_immutables(bytes(code)).hex() == compiled.deployed_bytecode
    assert deployer.key.hex() not in result.stdout + result.stderr


def test_deploy_bootstraps_the_consortium_from_yaml(tmp_path: Path) -> None:
    from app.chain.client import dev_account, registry
    from app.chain.devnet import running_devnet
    from app.chain.roles import role_id

    brand, customs, second_admin = dev_account(1), dev_account(4), dev_account(8)
    plan = tmp_path / "consortium.yaml"
    plan.write_text(
        f"admins: ['{dev_account(0).address}', '{second_admin.address}']\n"
        "threshold: 2\n"
        "members:\n"
        f"  - {{address: '{brand.address}', name: Maison Lumière, gln: '9506000000015', roles: [brand]}}\n"
        f"  - {{address: '{customs.address}', name: Hangzhou Customs, roles: [customs, carrier]}}\n"
    )
    env = {**os.environ, "ORIGINTRACE_DEPLOYMENTS_DIR": str(tmp_path)}
    with running_devnet("anvil") as node:
        result = ape_deploy(
            "--network", node.rpc_url, "--account", "TEST::0", "--consortium", str(plan), env=env
        )
        assert result.returncode == 0, result.stdout + result.stderr
        manifest = json.loads((tmp_path / "31337.json").read_text())
        # The manifest keeps the arguments the registry was deployed with (source verification
        # needs them); the file's threshold of 2 was set through governance afterwards.
        assert manifest["contracts"]["OriginRegistry"]["constructorArgs"]["threshold"] == 1
        contract = registry(
            Web3(Web3.HTTPProvider(node.rpc_url)), manifest["contracts"]["OriginRegistry"]["address"]
        )
        functions = contract.functions
        assert functions.threshold().call() == 2 and functions.adminCount().call() == 2
        assert functions.memberName(brand.address).call() == "Maison Lumière"
        assert functions.memberGln(brand.address).call() == "9506000000015"
        assert functions.hasRole(role_id("customs"), customs.address).call()
        assert functions.hasRole(role_id("carrier"), customs.address).call()
        assert not functions.hasRole(role_id("brand"), customs.address).call()


def test_a_wrong_account_or_passphrase_is_one_line(
    tmp_path: Path, devnet, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from app.chain.client import dev_account
    from app.chain.keystore import save_account

    env = {
        **os.environ,
        "APE_DATA_FOLDER": str(tmp_path / "ape"),
        "ORIGINTRACE_DEPLOYMENTS_DIR": str(tmp_path),
    }
    unknown = ape_deploy("--network", devnet.rpc_url, "--account", "nosuch", env=env)
    assert unknown.returncode == 2 and "no ape account 'nosuch'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    no_test_account = ape_deploy("--network", devnet.rpc_url, "--account", "TEST::99", env=env)
    assert no_test_account.returncode == 2 and "'TEST::99': no such test account" in no_test_account.stderr
    monkeypatch.setenv("APE_DATA_FOLDER", env["APE_DATA_FOLDER"])
    save_account("deployer", dev_account(7), "right passphrase")
    wrong = ape_deploy(
        "--network", devnet.rpc_url, "--account", "deployer", env={**env, "ORIGINTRACE_PASSPHRASE": "wrong"}
    )
    assert wrong.returncode == 2  # as every origintrace command: the passphrase is the user's to fix
    assert "wrong passphrase for account 'deployer' (the one ORIGINTRACE_PASSPHRASE holds)" in wrong.stderr
    assert "Traceback" not in wrong.stderr and not (tmp_path / "31337.json").exists()


def test_a_wrong_consortium_file_is_refused_with_the_place_of_the_error(tmp_path: Path, devnet) -> None:  # type: ignore[no-untyped-def]
    plan = tmp_path / "consortium.yaml"
    env = {**os.environ, "ORIGINTRACE_DEPLOYMENTS_DIR": str(tmp_path)}
    for entry, reason in (
        (
            "{address: '0x1234', name: Nobody, roles: [brand]}",
            "members[0].address: '0x1234' is not an Ethereum address",
        ),
        ("{address: 0x1234, name: Nobody, roles: [brand]}", "members[0].address: put the address in quotes"),
        (
            f"{{address: '{'0x' + '11' * 20}', name: X, gln: '9506000000024', roles: [brand]}}",
            "members[0].gln: Invalid GLN check digit for '9506000000024': Expected 2",
        ),
        (
            f"{{address: '{'0x' + '11' * 20}', name: X, roles: [baker]}}",
            "members[0].roles: ['baker'] unknown",
        ),
    ):
        plan.write_text(f"members:\n  - {entry}\n")
        result = ape_deploy(
            "--network", devnet.rpc_url, "--account", "TEST::0", "--consortium", str(plan), env=env
        )
        assert result.returncode == 2
        assert reason in result.stderr
    assert not (tmp_path / "31337.json").exists()


@pytest.mark.parametrize(
    ("gln", "reason"),
    [
        ("'9506000000024'", "members[0].gln: Invalid GLN check digit"),
        ("9506000000024", "members[0].gln: Invalid GLN check digit"),
        ("0614141000050", "put it in quotes"),  # YAML reads 614141000050: the leading 0 is gone
    ],
)
def test_load_plan_checks_each_gln(tmp_path: Path, gln: str, reason: str) -> None:
    from app.chain.bootstrap import PlanError, load_plan

    plan = tmp_path / "consortium.yaml"
    plan.write_text(f"members:\n  - {{address: '{'0x' + '11' * 20}', name: X, gln: {gln}}}\n")
    with pytest.raises(PlanError, match=re.escape(reason)):
        load_plan(plan)
    plan.write_text(f"members:\n  - {{address: '{'0x' + '11' * 20}', name: X, gln: '9506000000022'}}\n")
    assert load_plan(plan).members[0].gln == "9506000000022"


def test_create2_gives_the_same_address_on_every_chain(tmp_path: Path) -> None:
    from app.chain.client import dev_account
    from app.chain.deploy import DeploymentError, deploy_registry, salt_bytes
    from app.chain.devnet import running_devnet

    addresses = []
    for chain_id in (31337, 11155111):
        with running_devnet("anvil", chain_id=chain_id) as node:
            w3 = Web3(Web3.HTTPProvider(node.rpc_url))
            deployment = deploy_registry(w3, dev_account(0), salt=salt_bytes("origintrace-v1"))
            assert deployment.chain_id == chain_id and w3.eth.get_code(deployment.registry)
            addresses.append(deployment.registry)
            with pytest.raises(DeploymentError, match="already holds this registry"):
                deploy_registry(w3, dev_account(0), salt=salt_bytes("origintrace-v1"))
    assert addresses[0] == addresses[1]

    env = {**os.environ, "ORIGINTRACE_DEPLOYMENTS_DIR": str(tmp_path)}
    with running_devnet("anvil") as node:
        result = ape_deploy(
            "--network", node.rpc_url, "--account", "TEST::0", "--salt", "origintrace-v1", env=env
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        json.loads((tmp_path / "31337.json").read_text())["contracts"]["OriginRegistry"]["address"]
        == addresses[0]
    )


def test_ape_deploys_to_a_hardhat_node(tmp_path: Path) -> None:
    from app.chain.devnet import running_devnet

    env = {**os.environ, "ORIGINTRACE_DEPLOYMENTS_DIR": str(tmp_path)}
    with running_devnet("hardhat") as node:
        result = ape_deploy("--network", node.rpc_url, "--account", "TEST::0", env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        address = json.loads((tmp_path / "31337.json").read_text())["contracts"]["OriginRegistry"]["address"]
        code = Web3(Web3.HTTPProvider(node.rpc_url)).eth.get_code(address)
    compiled = artifact("OriginRegistry")
    assert "0x" + compiled.mask_immutables(bytes(code)).hex() == compiled.deployed_bytecode


def test_the_example_consortium_file_loads() -> None:
    from app.chain.bootstrap import load_plan

    plan = load_plan(PROJECT_ROOT / "consortium.example.yaml")
    assert plan.threshold == 2 and len(plan.admins) == 2
    assert [(m.name, m.roles) for m in plan.members] == [
        ("Maison Lumière", ("brand",)),
        ("SkyBridge Logistics", ("carrier",)),
    ]


def test_a_bootstrap_cut_short_is_finished_by_the_same_command(tmp_path: Path) -> None:
    """A bootstrap that stopped (out of funds, a member the registry refuses) left a deployed
    registry with no manifest, and the same command again was refused: nothing could finish it."""
    from app.chain.client import dev_account, registry
    from app.chain.devnet import running_devnet

    brand, retailer = dev_account(1), dev_account(5)
    plan = tmp_path / "consortium.yaml"
    members = f"  - {{address: '{brand.address}', name: Maison Lumière, roles: [brand]}}\n"
    refused = "  - {address: '0x0000000000000000000000000000000000000000', name: Nobody}\n"
    plan.write_text(f"members:\n{members}{refused}")
    env = {**os.environ, "ORIGINTRACE_DEPLOYMENTS_DIR": str(tmp_path)}
    with running_devnet("anvil") as node:
        args = ("--network", node.rpc_url, "--account", "TEST::0", "--consortium", str(plan))
        stopped = ape_deploy(*args, env=env)
        assert stopped.returncode == 1, stopped.stdout + stopped.stderr
        assert "bootstrapping the consortium stopped: RegistryInvalidMember" in stopped.stderr
        assert "Traceback" not in stopped.stderr
        manifest = json.loads((tmp_path / "31337.json").read_text())  # written before the bootstrap
        address = manifest["contracts"]["OriginRegistry"]["address"]
        plan.write_text(f"members:\n{members}  - {{address: '{retailer.address}', name: TianMall}}\n")
        assert "run the same command with --resume to finish it" in stopped.stderr
        unasked = ape_deploy(*args, env=env)  # without --resume: another consortium's file, maybe
        assert unasked.returncode == 1 and "add --resume to finish its bootstrap" in unasked.stderr
        finished = ape_deploy(*args, "--resume", env=env)
        assert finished.returncode == 0, finished.stdout + finished.stderr
        assert "finishing its bootstrap" in finished.stdout
        functions = registry(Web3(Web3.HTTPProvider(node.rpc_url)), address).functions
        assert functions.isMember(brand.address).call() and functions.isMember(retailer.address).call()
        again = ape_deploy("--network", node.rpc_url, "--account", "TEST::0", env=env)  # no consortium
        assert again.returncode == 1 and "or move that file away to deploy another" in again.stderr
        elsewhere = tmp_path / "admins.yaml"
        elsewhere.write_text(f"admins: ['{brand.address}']\n")
        refused_plan = ape_deploy(
            "--network", node.rpc_url, "--account", "TEST::0", "--consortium", str(elsewhere), env=env
        )
        assert refused_plan.returncode == 2 and "do not include the deploying account" in refused_plan.stderr
