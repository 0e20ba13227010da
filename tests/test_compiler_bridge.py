"""The solc-js bridge serves forge, py-solc-x and ape-solidity with byte-identical output."""

import json
import subprocess

from app.chain.artifacts import BRIDGE, SOLC_VERSION, artifact
from app.core.config import PROJECT_ROOT


def test_bridge_answers_version_in_native_format() -> None:
    out = subprocess.run([str(BRIDGE), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[1].startswith(f"Version: {SOLC_VERSION}+commit.")
    assert out.strip().endswith(".Linux.g++")


def test_bridge_streams_large_output_without_truncation() -> None:
    # The registry's full standard-JSON output is far beyond a 64 KiB pipe buffer.
    compiler_input = {
        "language": "Solidity",
        "sources": {"contracts/OriginRegistry.sol": {"urls": ["contracts/OriginRegistry.sol"]}},
        "settings": {
            "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
            "outputSelection": {"*": {"*": ["*"], "": ["ast"]}},
        },
    }
    result = subprocess.run(
        [str(BRIDGE), "--standard-json", "--base-path", str(PROJECT_ROOT)],
        input=json.dumps(compiler_input),
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    )
    assert len(result.stdout) > 256 * 1024
    output = json.loads(result.stdout)
    assert not [e for e in output.get("errors", []) if e["severity"] == "error"]


def test_forge_pysolcx_and_ape_emit_identical_runtime_bytecode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    forge_out = tmp_path / "forge-out"
    subprocess.run(
        ["forge", "build", "--out", str(forge_out), "--cache-path", str(tmp_path / "cache")],
        check=True,
        cwd=PROJECT_ROOT,
        capture_output=True,
    )
    forge_code = json.loads((forge_out / "OriginRegistry.sol" / "OriginRegistry.json").read_text())
    subprocess.run(["ape", "compile", "--force"], check=True, cwd=PROJECT_ROOT, capture_output=True)
    ape_manifest = json.loads((PROJECT_ROOT / ".build" / "__local__.json").read_text())
    ape_code = ape_manifest["contractTypes"]["OriginRegistry"]["runtimeBytecode"]["bytecode"]

    pysolcx_code = artifact("OriginRegistry").deployed_bytecode
    assert len(pysolcx_code) > 1000
    assert forge_code["deployedBytecode"]["object"] == pysolcx_code
    assert ape_code == pysolcx_code
