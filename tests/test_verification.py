"""The source-verification bundle reproduces the deployed bytecode from its own files alone."""

import json
import subprocess
from pathlib import Path

from eth_utils.crypto import keccak
from typer.testing import CliRunner

from app.chain.artifacts import BRIDGE, artifact
from app.chain.deploy import Deployment, write_manifest
from app.cli import cli


def test_bundle_recompiles_to_the_deployed_bytecode(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    result = CliRunner().invoke(cli, ["deployments", "verification-bundle", "--out", str(out)])
    assert result.exit_code == 0, result.output
    compiler_input = json.loads((out / "standard-input.json").read_text())
    metadata = json.loads((out / "metadata.json").read_text())
    assert set(compiler_input["sources"]) == set(metadata["sources"])
    assert any(path.startswith("node_modules/@openzeppelin/") for path in compiler_input["sources"])
    for path, source in compiler_input["sources"].items():
        assert "0x" + keccak(text=source["content"]).hex() == metadata["sources"][path]["keccak256"]
        assert (out / "sources" / path).read_text() == source["content"]

    # Compile in an empty folder: nothing but the bundle's own sources is available.
    empty = tmp_path / "empty"
    empty.mkdir()
    compiled = subprocess.run(
        [str(BRIDGE), "--standard-json"],
        input=json.dumps(compiler_input),
        capture_output=True,
        text=True,
        check=True,
        cwd=empty,
    )
    output = json.loads(compiled.stdout)
    unit = output["contracts"]["contracts/OriginRegistry.sol"]["OriginRegistry"]
    assert "0x" + unit["evm"]["deployedBytecode"]["object"] == artifact("OriginRegistry").deployed_bytecode


def test_deployments_list_shows_each_manifest(tmp_path: Path) -> None:
    address = "0x" + "ab" * 20
    write_manifest(
        Deployment(11155111, address, 42, "0x" + "00" * 32, "0x" + "01" * 32, address, address, {}, 0),
        tmp_path,
    )
    result = CliRunner().invoke(
        cli, ["deployments", "list"], env={"ORIGINTRACE_DEPLOYMENTS_DIR": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output
    assert (
        "chain 11155111" in result.output
        and "0x" + "ab" * 20 in result.output
        and "block 42" in result.output
    )
    empty = CliRunner().invoke(
        cli, ["deployments", "list"], env={"ORIGINTRACE_DEPLOYMENTS_DIR": str(tmp_path / "x")}
    )
    assert "no deployments" in empty.output
