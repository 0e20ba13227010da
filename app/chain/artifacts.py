"""Compiled contracts: standard-JSON compilation through py-solc-x and the project's bridge.

The settings here are the single source of truth for how contracts are compiled; they
match foundry.toml and ape-config.yaml so that forge, ape and this module produce the
same bytecode (tests/test_compiler_bridge.py checks it).
"""

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import solcx

from app.core.config import PROJECT_ROOT

SOLC_VERSION = "0.8.28"
BRIDGE = PROJECT_ROOT / "bin" / "solc"
CONTRACTS_DIR = PROJECT_ROOT / "contracts"
CACHE_DIR = PROJECT_ROOT / "cache" / "solcx"
COMPILER_SETTINGS: dict[str, Any] = {
    "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
    "optimizer": {"enabled": True, "runs": 200},
    "metadata": {"useLiteralContent": False, "bytecodeHash": "ipfs", "appendCBOR": True},
    "evmVersion": "cancun",
    "viaIR": False,
    "libraries": {},
}


@dataclass(frozen=True)
class Artifact:
    """ABI and bytecode of one compiled contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    metadata: str
    """solc's metadata JSON: compiler, settings and the keccak256 of every source."""
    immutable_ranges: tuple[tuple[int, int], ...] = ()

    def mask_immutables(self, code: bytes) -> bytes:
        """Deployed `code` with its immutables (filled in by the constructor) zeroed, as compiled."""
        masked = bytearray(code)
        for start, length in self.immutable_ranges:
            masked[start : start + length] = bytes(length)
        return bytes(masked)


def standard_json_input(directory: Path = CONTRACTS_DIR) -> dict[str, Any]:
    """The compiler input: every source under `directory`, keyed by project-relative path."""
    sources = {
        path.relative_to(PROJECT_ROOT).as_posix(): {"content": path.read_text()}
        for path in sorted(directory.rglob("*.sol"))
    }
    selection = {
        "*": {
            "*": [
                "abi",
                "evm.bytecode.object",
                "evm.deployedBytecode.object",
                "evm.deployedBytecode.immutableReferences",
                "metadata",
            ]
        }
    }
    return {
        "language": "Solidity",
        "sources": sources,
        "settings": {**COMPILER_SETTINGS, "outputSelection": selection},
    }


def _compile(compiler_input: dict[str, Any]) -> dict[str, Any]:
    output: dict[str, Any] = solcx.compile_standard(
        compiler_input,
        base_path=str(PROJECT_ROOT),
        allow_paths=[str(PROJECT_ROOT)],
        solc_binary=BRIDGE,
    )
    return output


@lru_cache
def compiled_contracts(directory: Path = CONTRACTS_DIR) -> dict[str, Artifact]:
    """All contracts under `directory` (contracts/ by default), compiled once and cached on disk."""
    compiler_input = standard_json_input(directory)
    digest = hashlib.sha256(json.dumps(compiler_input, sort_keys=True).encode()).hexdigest()[:16]
    cache_file = CACHE_DIR / f"{digest}.json"
    if cache_file.exists():
        output = json.loads(cache_file.read_text())
    else:
        output = _compile(compiler_input)
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(output))
        tmp.replace(cache_file)
    artifacts: dict[str, Artifact] = {}
    for source, units in output["contracts"].items():
        if not source.startswith(directory.relative_to(PROJECT_ROOT).as_posix() + "/"):
            continue
        for name, unit in units.items():
            artifacts[name] = Artifact(
                name=name,
                abi=unit["abi"],
                bytecode="0x" + unit["evm"]["bytecode"]["object"],
                deployed_bytecode="0x" + unit["evm"]["deployedBytecode"]["object"],
                metadata=unit["metadata"],
                immutable_ranges=tuple(
                    (ref["start"], ref["length"])
                    for refs in unit["evm"]["deployedBytecode"].get("immutableReferences", {}).values()
                    for ref in refs
                ),
            )
    return artifacts


def artifact(name: str, directory: Path = CONTRACTS_DIR) -> Artifact:
    """The compiled contract called `name` (e.g. "OriginRegistry") under `directory`."""
    try:
        return compiled_contracts(directory)[name]
    except KeyError:
        raise KeyError(f"no contract named {name!r} under {directory}") from None


def compiler_info() -> dict[str, Any]:
    """Compiler version and settings, as recorded in deployment manifests."""
    return {"solc": SOLC_VERSION, "compiler": "solc-js via bin/solc", "settings": COMPILER_SETTINGS}
