"""Encrypted keystores (Web3 Secret Storage v3), shared with ape's accounts folder.

A keystore written here is an ape account too (`ape accounts list` shows it), and ape's
accounts are usable here. Private keys are only ever read from a hidden prompt or stdin,
never from arguments, and never printed.
"""

import json
import os
import re
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class KeystoreError(ValueError):
    """A keystore problem the user can fix; the message says how."""


class WrongPassphrase(KeystoreError):
    """The passphrase does not decrypt the keystore."""


def keystore_dir() -> Path:
    """ape's accounts folder: $APE_DATA_FOLDER/accounts (default ~/.ape/accounts)."""
    return Path(os.environ.get("APE_DATA_FOLDER", Path.home() / ".ape")) / "accounts"


def keystore_path(name: str) -> Path:
    if not _NAME.match(name):
        raise KeystoreError(f"account name {name!r} must be 1-64 letters, digits, '.', '_' or '-'")
    return keystore_dir() / f"{name}.json"


def existing_keystore(name: str) -> Path:
    """The keystore file of account `name`, which must exist."""
    path = keystore_path(name)
    if not path.exists():
        raise KeystoreError(f"no account named {name!r} in {keystore_dir()}; see `origintrace accounts list`")
    return path


def keystore_address(name: str) -> str:
    """The checksummed address of account `name`, from its keystore (no passphrase needed)."""
    path = existing_keystore(name)
    try:
        address = json.loads(path.read_text())["address"]
    except (ValueError, KeyError):
        raise KeystoreError(f"the keystore of {name!r} is not a keystore file") from None
    return to_checksum_address("0x" + str(address).removeprefix("0x"))


def list_accounts() -> list[tuple[str, str]]:
    """(name, checksummed address) of every keystore, sorted by name."""
    found: list[tuple[str, str]] = []
    for path in sorted(keystore_dir().glob("*.json")):
        try:
            address = json.loads(path.read_text())["address"]
        except (ValueError, KeyError):
            continue
        found.append((path.stem, to_checksum_address("0x" + address.removeprefix("0x"))))
    return found


def check_new_account(name: str, address: str) -> Path:
    """The keystore path for a new account `name` holding the key of `address`, after checking
    that neither the name nor the key is held already (two names for one key would sign as the
    same member under either, and `accounts list` would show it twice)."""
    path = keystore_path(name)
    if path.exists():
        raise KeystoreError(f"an account named {name!r} already exists ({path}); choose another name")
    held = [other for other, held_address in list_accounts() if held_address == address]
    if held:
        raise KeystoreError(
            f"the key of {address} is held already, as account {held[0]!r}: use --account {held[0]}"
        )
    return path


def save_account(name: str, account: LocalAccount, passphrase: str) -> Path:
    """Encrypt `account` under `passphrase` into a new keystore file named `name`."""
    path = check_new_account(name, account.address)
    if len(passphrase) < 8:
        raise KeystoreError("the passphrase must have at least 8 characters")
    path.parent.mkdir(parents=True, exist_ok=True)
    keystore = Account.encrypt(account.key, passphrase)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(keystore))
    tmp.chmod(0o600)
    tmp.replace(path)
    return path


def parse_private_key(text: str) -> LocalAccount:
    """A LocalAccount from a hex private key typed or piped in; errors never echo the key."""
    value = text.strip().removeprefix("0x")
    if not re.fullmatch(r"[0-9a-fA-F]{64}", value):
        raise KeystoreError("a private key is 64 hexadecimal characters (optionally prefixed by 0x)")
    account: LocalAccount = Account.from_key(bytes.fromhex(value))
    return account


def load_account(name: str, passphrase: str) -> LocalAccount:
    """Decrypt the keystore `name`."""
    path = existing_keystore(name)
    try:
        key = Account.decrypt(json.loads(path.read_text()), passphrase)
    except ValueError:
        raise WrongPassphrase(f"wrong passphrase for account {name!r}") from None
    account: LocalAccount = Account.from_key(key)
    return account
