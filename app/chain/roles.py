"""Consortium roles: their names and on-chain ids (keccak256 of "<NAME>_ROLE", as in Consortium.sol)."""

from eth_utils.crypto import keccak

ROLES = ("brand", "certifier", "carrier", "customs", "retailer")


def role_id(name: str) -> bytes:
    """The bytes32 id of role `name` (e.g. "brand" -> keccak256("BRAND_ROLE"))."""
    return keccak(text=f"{name.upper()}_ROLE")
