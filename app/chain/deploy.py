"""Deploy the registry and write its manifest, deployments/<chainId>.json."""

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from app.chain.artifacts import artifact, compiler_info
from app.chain.client import send
from app.core.config import get_settings


@dataclass(frozen=True)
class Deployment:
    """Where the registry lives: everything the indexer and gateway need to find it."""

    chain_id: int
    registry: str
    deploy_block: int
    deploy_block_hash: str
    deploy_tx: str
    deployer: str
    admin: str
    compiler: dict[str, Any]
    deployed_at: int
    admins: tuple[str, ...] = ()
    threshold: int = 1

    def to_json(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id,
            "contracts": {
                "OriginRegistry": {
                    "address": self.registry,
                    "deployBlock": self.deploy_block,
                    "deployBlockHash": self.deploy_block_hash,
                    "txHash": self.deploy_tx,
                    "constructorArgs": {
                        "admin": self.admin,
                        "admins": list(self.admins or (self.admin,)),
                        "threshold": self.threshold,
                    },
                }
            },
            "deployer": self.deployer,
            "compiler": self.compiler,
            "deployedAt": self.deployed_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Deployment":
        registry = data["contracts"]["OriginRegistry"]
        return cls(
            chain_id=data["chainId"],
            registry=registry["address"],
            deploy_block=registry["deployBlock"],
            deploy_block_hash=registry["deployBlockHash"],
            deploy_tx=registry["txHash"],
            deployer=data["deployer"],
            admin=registry["constructorArgs"]["admin"],
            compiler=data["compiler"],
            deployed_at=data["deployedAt"],
            admins=tuple(registry["constructorArgs"].get("admins", [registry["constructorArgs"]["admin"]])),
            threshold=registry["constructorArgs"].get("threshold", 1),
        )


def manifest_path(chain_id: int, directory: Path | None = None) -> Path:
    """deployments/<chainId>.json (ORIGINTRACE_DEPLOYMENTS_DIR overrides the folder)."""
    return (directory or get_settings().deployments_dir) / f"{chain_id}.json"


def write_manifest(deployment: Deployment, directory: Path | None = None) -> Path:
    """Write the manifest atomically and return its path."""
    directory = directory or get_settings().deployments_dir
    directory.mkdir(parents=True, exist_ok=True)
    path = manifest_path(deployment.chain_id, directory)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(deployment.to_json(), indent=2) + "\n")
    tmp.replace(path)
    return path


def load_manifest(path: Path) -> Deployment:
    if not path.exists():
        raise FileNotFoundError(f"no deployment manifest at {path}: deploy first (`ape run deploy`)")
    return Deployment.from_json(json.loads(path.read_text()))


def deploy_registry(
    w3: Web3,
    deployer: LocalAccount,
    admin: str | None = None,
    other_admins: Sequence[str] = (),
    threshold: int = 1,
) -> Deployment:
    """Deploy OriginRegistry from `deployer`.

    Its admins are `admin` (default: the deployer) and `other_admins`; each governance action
    needs `threshold` of their approvals. The default, one admin and threshold 1, lets that admin
    act alone, which is what the demo does.
    """
    compiled = artifact("OriginRegistry")
    admin = Web3.to_checksum_address(admin or deployer.address)
    admins = (admin, *(Web3.to_checksum_address(a) for a in other_admins))
    factory = w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    receipt = send(w3, deployer, factory.constructor(list(admins), threshold))
    block = w3.eth.get_block(receipt["blockNumber"])
    return Deployment(
        chain_id=w3.eth.chain_id,
        registry=str(receipt["contractAddress"]),
        deploy_block=receipt["blockNumber"],
        deploy_block_hash="0x" + bytes(block["hash"]).hex(),
        deploy_tx="0x" + bytes(receipt["transactionHash"]).hex(),
        deployer=deployer.address,
        admin=admin,
        compiler=compiler_info(),
        deployed_at=int(time.time()),
        admins=admins,
        threshold=threshold,
    )
