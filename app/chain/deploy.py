"""Deploy the registry and write its manifest, deployments/<chainId>.json."""

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from web3 import Web3
from web3.types import TxReceipt

from app.chain.artifacts import artifact, compiler_info
from app.chain.client import send, sign_and_send
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


class ManifestError(ValueError):
    """A file that is not a deployment manifest; the message names it and says why."""


def load_manifest(path: Path) -> Deployment:
    if not path.exists():
        raise FileNotFoundError(f"no deployment manifest at {path}: deploy first (`ape run deploy`)")
    not_one = f"{path} is not a deployment manifest"
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ManifestError(f"{not_one}: cannot read it ({exc.strerror})") from None
    except ValueError as exc:
        raise ManifestError(f"{not_one}: not JSON ({exc})") from None
    try:
        return Deployment.from_json(data)
    except KeyError as exc:
        raise ManifestError(f"{not_one}: it has no {exc.args[0]!r} field") from None
    except (TypeError, AttributeError) as exc:
        raise ManifestError(f"{not_one}: {exc}") from None


def known_deployment(chain_id: int) -> Deployment | None:
    """The deployment the local manifest of `chain_id` records, or None without a readable one."""
    try:
        return load_manifest(manifest_path(chain_id))
    except (FileNotFoundError, ManifestError):
        return None


CREATE2_FACTORY = Web3.to_checksum_address("0x4e59b44847b379578588920cA78FbF26c0B4956C")
"""The deterministic deployment proxy found on anvil, most testnets and mainnets: it deploys
`init code` sent after a 32-byte salt with CREATE2, so the address depends only on both."""


class DeploymentError(RuntimeError):
    """The deployment cannot go ahead; the message says why."""


def salt_bytes(salt: str | None) -> bytes | None:
    """A 32-byte CREATE2 salt: 0x-hex of 32 bytes as is, any other text hashed with keccak256."""
    if salt is None:
        return None
    text = salt.removeprefix("0x")
    if salt.startswith("0x") and len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text):
        return bytes.fromhex(text)
    return keccak(text=salt)


def create2_address(salt: bytes, init_code: bytes) -> ChecksumAddress:
    """Where the factory deploys `init_code` with `salt` (EIP-1014)."""
    digest = keccak(b"\xff" + bytes.fromhex(CREATE2_FACTORY[2:]) + salt + keccak(init_code))
    return Web3.to_checksum_address(digest[12:])


def _create2(
    w3: Web3, deployer: LocalAccount, salt: bytes, init_code: bytes
) -> tuple[ChecksumAddress, TxReceipt]:
    if not w3.eth.get_code(CREATE2_FACTORY):
        raise DeploymentError(f"no CREATE2 factory at {CREATE2_FACTORY} on chain {w3.eth.chain_id}")
    address = create2_address(salt, init_code)
    if w3.eth.get_code(address):
        raise DeploymentError(f"{address} already holds this registry (same salt and constructor arguments)")
    tx = {
        "from": deployer.address,
        "to": CREATE2_FACTORY,
        "data": "0x" + (salt + init_code).hex(),
        "nonce": w3.eth.get_transaction_count(deployer.address, "pending"),
        "chainId": w3.eth.chain_id,
    }
    tx["gas"] = w3.eth.estimate_gas(tx)  # type: ignore[arg-type]
    tx.update(_fees(w3))
    receipt = sign_and_send(w3, deployer, tx)
    if not w3.eth.get_code(address):
        raise DeploymentError(f"the CREATE2 factory did not deploy to {address}")
    return address, receipt


def _fees(w3: Web3) -> dict[str, int]:
    priority = w3.eth.max_priority_fee
    return {
        "maxPriorityFeePerGas": priority,
        "maxFeePerGas": 2 * w3.eth.get_block("latest")["baseFeePerGas"] + priority,
    }


def deploy_registry(
    w3: Web3,
    deployer: LocalAccount,
    admin: str | None = None,
    other_admins: Sequence[str] = (),
    threshold: int = 1,
    salt: bytes | None = None,
) -> Deployment:
    """Deploy OriginRegistry from `deployer`.

    Its admins are `admin` (default: the deployer) and `other_admins`; each governance action
    needs `threshold` of their approvals. The default, one admin and threshold 1, lets that admin
    act alone, which is what the demo does. With a 32-byte `salt` the registry is deployed through
    the CREATE2 factory: the same salt and arguments give the same address on every chain.
    """
    compiled = artifact("OriginRegistry")
    admin = Web3.to_checksum_address(admin or deployer.address)
    admins = (admin, *(Web3.to_checksum_address(a) for a in other_admins))
    factory = w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    constructor = factory.constructor(list(admins), threshold)
    if salt is None:
        receipt = send(w3, deployer, constructor)
        address = str(receipt["contractAddress"])
    else:
        address, receipt = _create2(w3, deployer, salt, bytes.fromhex(constructor.data_in_transaction[2:]))
    block = w3.eth.get_block(receipt["blockNumber"])
    return Deployment(
        chain_id=w3.eth.chain_id,
        registry=address,
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
