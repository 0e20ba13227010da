"""The `origintrace` command line."""

import logging
import signal
import sys
from typing import Annotated

import typer

from app.core.config import get_settings

cli = typer.Typer(
    help="OriginTrace: provenance of physical goods on an Ethereum-compatible chain.",
    no_args_is_help=True,
    add_completion=False,
)


def _terminate_on_sigterm() -> None:
    # SIGTERM unwinds like Ctrl-C so every `finally` (stopping the devnet, the indexer) runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))


@cli.callback()
def main_options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug detail")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@cli.command()
def up() -> None:
    """Run the demo: a devnet (unless ORIGINTRACE_RPC_URL is set), deploy, seed, index and serve.

    Environment: ORIGINTRACE_PORT (gateway port, default 8000), ORIGINTRACE_RPC_URL,
    ORIGINTRACE_DEVNET (anvil or hardhat, default anvil), ORIGINTRACE_DATABASE_URL
    (default: SQLite in ./data).
    """
    from app.demo.up import PortInUse
    from app.demo.up import up as run_up

    _terminate_on_sigterm()
    try:
        run_up(get_settings())
    except (PortInUse, ConnectionError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo("stopped")


def _register_groups() -> None:
    from app.commands import accounts, custody, deployments, handoff, items, qr

    cli.add_typer(accounts.app, name="accounts")
    cli.add_typer(items.app, name="items")
    cli.add_typer(custody.app, name="custody")
    cli.add_typer(deployments.app, name="deployments")
    cli.add_typer(handoff.app, name="handoff")
    cli.command("qr")(qr.qr)


_register_groups()


def main() -> None:
    cli()
