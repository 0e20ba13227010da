"""Consortium bootstrap from a YAML file: admins, threshold, members with GLN and roles.

    admins: [0xAdmin1, 0xAdmin2]     # optional; default: the deploying account alone
    threshold: 2                     # approvals each governance action needs (default 1)
    members:
      - address: 0xBrand
        name: Maison Lumière
        gln: "9506000000015"          # optional GS1 Global Location Number (check digit checked)
        roles: [brand]                # brand, certifier, carrier, customs, retailer

The registry is deployed with threshold 1 so the deploying admin can admit the members
alone; the threshold of the file is set last, through governance like any change.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from app.chain.client import send
from app.chain.roles import ROLES, role_id
from app.gs1.keys import InvalidKey, normalise_gln


class PlanError(ValueError):
    """The consortium file is wrong; the message says where."""


@dataclass(frozen=True)
class MemberPlan:
    address: str
    name: str
    gln: str = ""
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConsortiumPlan:
    admins: tuple[str, ...] = ()
    threshold: int = 1
    members: tuple[MemberPlan, ...] = field(default_factory=tuple)


def _address(value: Any, where: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        raise PlanError(f"{where}: put the address in quotes (YAML reads an unquoted 0x... as a number)")
    if not isinstance(value, str) or not Web3.is_address(value):
        raise PlanError(f"{where}: {value!r} is not an Ethereum address")
    return Web3.to_checksum_address(value)


def _member(entry: Any, index: int) -> MemberPlan:
    where = f"members[{index}]"
    if not isinstance(entry, dict):
        raise PlanError(f"{where} must be a mapping with address, name and roles")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PlanError(f"{where}.name must be a non-empty text")
    roles = entry.get("roles", [])
    unknown = [r for r in roles if r not in ROLES] if isinstance(roles, list) else roles
    if unknown:
        raise PlanError(f"{where}.roles: {unknown!r} unknown; use any of {', '.join(ROLES)}")
    raw = entry.get("gln", "")
    try:
        gln = normalise_gln(str(raw)) if raw not in ("", None) else ""
    except InvalidKey as exc:
        hint = (
            " (put it in quotes: YAML drops a leading 0 of unquoted digits)" if isinstance(raw, int) else ""
        )
        raise PlanError(f"{where}.gln: {exc}{hint}") from None
    return MemberPlan(_address(entry.get("address"), f"{where}.address"), name.strip(), gln, tuple(roles))


def load_plan(path: Path) -> ConsortiumPlan:
    """Read and check a consortium file."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise PlanError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise PlanError(f"{path} must hold a mapping with admins, threshold and members")
    admins = tuple(_address(a, f"admins[{i}]") for i, a in enumerate(data.get("admins") or []))
    members = tuple(_member(m, i) for i, m in enumerate(data.get("members") or []))
    threshold = data.get("threshold", 1)
    if not isinstance(threshold, int) or not 1 <= threshold <= max(1, len(admins)):
        raise PlanError(f"threshold must be between 1 and the number of admins ({max(1, len(admins))})")
    return ConsortiumPlan(admins, threshold, members)


def _propose(w3: Web3, registry: Contract, admin: LocalAccount, call: Any) -> None:
    send(w3, admin, registry.functions.propose(call._encode_transaction_data()))


def apply_plan(w3: Web3, registry: Contract, admin: LocalAccount, plan: ConsortiumPlan) -> None:
    """Admit the plan's members with their GLN and roles, then set its threshold. What the
    registry already has is skipped, so a bootstrap cut short (out of funds) is finished by
    running it again."""
    functions = registry.functions
    for member in plan.members:
        if not functions.isMember(member.address).call():
            _propose(w3, registry, admin, functions.admitMember(member.address, member.name, member.gln))
        for role in member.roles:
            if not functions.hasRole(role_id(role), member.address).call():
                _propose(w3, registry, admin, functions.grantRole(role_id(role), member.address))
    if plan.threshold != functions.threshold().call():
        _propose(w3, registry, admin, functions.setThreshold(plan.threshold))
