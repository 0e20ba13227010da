"""`origintrace accounts`: create, import and list encrypted keystore accounts."""

import sys
from typing import Annotated

import typer
from eth_account import Account

from app.chain.keystore import (
    check_new_account,
    keystore_dir,
    list_accounts,
    parse_private_key,
    save_account,
)
from app.commands import terminal
from app.commands.context import clear_errors, read_passphrase

app = typer.Typer(help="Encrypted keystore accounts (shared with ape's accounts).", no_args_is_help=True)
Name = Annotated[str, typer.Argument(help="Account name (letters, digits, '.', '_', '-')")]


@app.command()
def create(name: Name) -> None:
    """Create a new random account, encrypted under a passphrase you choose."""
    with clear_errors():
        account = Account.create()
        path = save_account(name, account, read_passphrase(name, confirm=True))
    typer.echo(f"created {name}: {account.address}\n  keystore: {path}")


@app.command("import")
def import_(name: Name) -> None:
    """Import a private key (typed at a hidden prompt, or piped on stdin) into a keystore; a key
    held already under another name is refused, naming that account."""
    with clear_errors():
        if terminal.interactive():
            text = typer.prompt("Private key (hidden)", hide_input=True)
        else:
            text = sys.stdin.readline()
        account = parse_private_key(text)
        check_new_account(name, account.address)  # before asking for a passphrase
        path = save_account(name, account, read_passphrase(name, confirm=True))
    typer.echo(f"imported {name}: {account.address}\n  keystore: {path}")


@app.command("list")
def list_() -> None:
    """List the keystore accounts."""
    accounts = list_accounts()
    if not accounts:
        typer.echo(f"no accounts in {keystore_dir()}; create one with `origintrace accounts create NAME`")
    for name, address in accounts:
        typer.echo(f"{name:<24} {address}")
