"""Turn an ape account (test account or encrypted keystore) into a signing LocalAccount."""

import getpass
import os
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount


def local_account(ape_account: Any) -> LocalAccount:
    """A LocalAccount for `ape_account`.

    Keystore accounts take their passphrase from $ORIGINTRACE_PASSPHRASE or a hidden prompt.
    """
    key = getattr(ape_account, "private_key", None)
    if key:
        signer: LocalAccount = Account.from_key(key)
        return signer
    keyfile = getattr(ape_account, "keyfile", None)
    if keyfile is None:
        raise ValueError(f"account {ape_account.address} cannot sign locally (hardware or remote signer)")
    name = getattr(ape_account, "alias", ape_account.address)
    passphrase = os.environ.get("ORIGINTRACE_PASSPHRASE") or getpass.getpass(f"Passphrase for {name}: ")
    try:
        signer = Account.from_key(Account.decrypt(keyfile, passphrase))
    except ValueError:
        raise ValueError("wrong passphrase for the keystore account") from None
    return signer
