"""Source verification bundles (Sourcify, Etherscan) for deployed contracts.

`standard_input` is the standard-JSON compiler input that reproduces the deployed
bytecode exactly: every source the contract's metadata names, with its content, and the
project's compiler settings. Etherscan takes it as "Solidity (Standard-Json-Input");
Sourcify takes `metadata.json` plus the sources.
"""

import json
from pathlib import Path
from typing import Any

from app.chain.artifacts import COMPILER_SETTINGS, artifact
from app.core.config import PROJECT_ROOT


def _sources(name: str) -> dict[str, dict[str, str]]:
    metadata = json.loads(artifact(name).metadata)
    return {path: {"content": (PROJECT_ROOT / path).read_text()} for path in sorted(metadata["sources"])}


def standard_input(name: str = "OriginRegistry") -> dict[str, Any]:
    """Standard-JSON input with the full source of `name` and everything it imports."""
    selection = {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "metadata"]}}
    return {
        "language": "Solidity",
        "sources": _sources(name),
        "settings": {**COMPILER_SETTINGS, "outputSelection": selection},
    }


def write_bundle(directory: Path, name: str = "OriginRegistry") -> list[Path]:
    """Write standard-input.json, metadata.json and sources/ for `name` into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / "standard-input.json", directory / "metadata.json"]
    compiler_input = standard_input(name)
    written[0].write_text(json.dumps(compiler_input, indent=1))
    written[1].write_text(artifact(name).metadata)
    for path, source in compiler_input["sources"].items():
        target = directory / "sources" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source["content"])
        written.append(target)
    return written
