"""The `origintrace` command line."""

import inspect
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from app.commands.context import fail
from app.core.config import InvalidSettings, Settings, get_settings

if TYPE_CHECKING:
    from app.relayer.setup import RelayerSetup

cli = typer.Typer(
    help="OriginTrace: provenance of physical goods on an Ethereum-compatible chain.",
    no_args_is_help=True,
    add_completion=False,
    # Plain Click help: Typer's rich panels label every flag `<bool>`, and members read
    # `--verbose <bool>` as taking a value (`--verbose true` is then an extra argument).
    rich_markup_mode=None,
)


def _checked_database_url(url: str) -> str:
    """`url`, after checking that SQLAlchemy knows its dialect and its driver is installed."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url).get_dialect().import_dbapi()
    except (ArgumentError, ImportError) as exc:
        fail(f"cannot use the database URL {url!r}: {exc}", code=2)
    return url


def _database_unavailable(exc: Exception, source: str) -> NoReturn:
    """Stop with one line (exit 2) for a database that cannot be used, e.g. one not created."""
    typer.echo(f"error: cannot open or write the database ({source}): {getattr(exc, 'orig', exc)}", err=True)
    raise typer.Exit(2) from None


def _terminate_on_sigterm() -> None:
    # SIGTERM is a stop like Ctrl-C: every `finally` (stopping the devnet, the indexer) runs,
    # the command says "stopped" and exits 0, as service managers expect of a clean stop.
    signal.signal(signal.SIGTERM, signal.default_int_handler)


@cli.callback()
def main_options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug detail")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    get_settings.cache_clear()  # each invocation reads the environment afresh (tests run many in one process)
    try:
        get_settings()
    except InvalidSettings as exc:
        for line in exc.lines:
            typer.secho(f"error: {line}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    if not verbose:  # each HTTP request and migration step is detail, not news
        for chatty in ("httpx", "alembic"):
            logging.getLogger(chatty).setLevel(logging.WARNING)


@cli.command()
def up() -> None:
    """Run the demo: a devnet (unless ORIGINTRACE_RPC_URL is set), deploy, seed, index and serve.

    Environment: ORIGINTRACE_PORT (gateway port, default 8000), ORIGINTRACE_RPC_URL,
    ORIGINTRACE_DEVNET (anvil or hardhat, default anvil), ORIGINTRACE_DATABASE_URL
    (default: SQLite in ./data), ORIGINTRACE_PLACES_FILE (default: the demo members' places,
    written to ./data/places.json).
    """
    from app.api.places import PlaceDirectoryError
    from app.api.server import PortInUse
    from app.demo.up import up as run_up
    from app.indexer.store import OtherDeployment

    _terminate_on_sigterm()
    try:
        run_up(get_settings())
    except (PortInUse, ConnectionError, PlaceDirectoryError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except OtherDeployment as exc:  # the demo's database holds another chain's index
        reason = str(exc).split(": check")[0]
        typer.echo(
            f"error: {reason}: set ORIGINTRACE_DATA_DIR (or ORIGINTRACE_DATABASE_URL) to another"
            " place for the demo's database",
            err=True,
        )
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo("stopped")


@cli.command()
def index(
    manifest: Annotated[
        Path | None,
        typer.Option(help="Deployment manifest; default: <ORIGINTRACE_DEPLOYMENTS_DIR>/<chain id>.json"),
    ] = None,
    rpc_url: Annotated[
        str | None,
        typer.Option(
            "--rpc", "--rpc-url", help="JSON-RPC URL (as every command's --rpc); default ORIGINTRACE_RPC_URL"
        ),
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL; default ORIGINTRACE_DATABASE_URL or SQLite in ./data")
    ] = None,
    follow: Annotated[bool, typer.Option(help="After the backfill, keep following the head")] = False,
    to_block: Annotated[
        int | None, typer.Option(min=0, help="Stop at this block (default: the head)")
    ] = None,
    max_range: Annotated[int | None, typer.Option(min=1, help="Largest eth_getLogs block range")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr")] = True,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="Clear a database that indexes another chain's deployment (else refused)"
        ),
    ] = False,
) -> None:
    """Backfill the registry's events into the database (JSON-lines logs), optionally following the head."""
    from sqlalchemy.exc import OperationalError

    from app.indexer.run import IndexJob, run_index

    _terminate_on_sigterm()
    settings = get_settings()
    source = (
        "--database-url"
        if database_url
        else "ORIGINTRACE_DATABASE_URL"
        if settings.database_url
        else "the default SQLite file in ORIGINTRACE_DATA_DIR"
    )
    database_url = _checked_database_url(database_url or settings.resolved_database_url)
    try:
        run_index(
            IndexJob(
                rpc_url=rpc_url or settings.rpc_url,
                database_url=database_url,
                manifest=manifest,
                follow=follow,
                to_block=to_block,
                max_range=max_range or settings.max_block_range,
                progress=progress,
                replace=replace,
            ),
            settings,
        )
    except (FileNotFoundError, ConnectionError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except OperationalError as exc:
        _database_unavailable(exc, source)
    except KeyboardInterrupt:
        typer.echo("stopped", err=True)


@cli.command()
def serve(
    workers: Annotated[
        int, typer.Option(min=1, help="Gateway processes; one per core. Each accepts on its own socket")
    ] = 1,
    host: Annotated[str | None, typer.Option(help="Address to listen on; default ORIGINTRACE_HOST")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port; default ORIGINTRACE_PORT (8000)")
    ] = None,
    relayer: Annotated[
        str | None,
        typer.Option(
            envvar="ORIGINTRACE_RELAYER_ACCOUNT",
            help="Keystore account that relays signed handoffs and claims and pays their gas"
            " (passphrase: ORIGINTRACE_PASSPHRASE or a prompt); needs ORIGINTRACE_RPC_URL",
        ),
    ] = None,
) -> None:
    """Serve the gateway over the indexed database (ORIGINTRACE_DATABASE_URL) until Ctrl-C or SIGTERM.

    Run `origintrace index --follow` beside it to keep the database at the chain head. Without
    --relayer, the relay endpoints answer 503 no_relayer.
    """
    from sqlalchemy.exc import OperationalError

    from app.api.places import PlaceDirectoryError
    from app.api.server import PortInUse
    from app.api.server import serve as run_serve

    settings = get_settings()
    overrides = {name: value for name, value in (("host", host), ("port", port)) if value is not None}
    settings = settings.model_copy(update=overrides)
    _checked_database_url(settings.resolved_database_url)
    relayer_setup = _relayer_setup(settings, relayer) if relayer else None
    url = settings.base_url
    try:
        code = run_serve(
            settings,
            workers,
            lambda: typer.echo(f"gateway on {url} ({workers} workers)", err=True),
            relayer_setup,
        )
    except (PortInUse, PlaceDirectoryError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except OperationalError as exc:
        _database_unavailable(exc, "ORIGINTRACE_DATABASE_URL")
    if code:
        typer.echo("error: a gateway worker died; see the log above", err=True)
        raise typer.Exit(code)


def _relayer_setup(settings: Settings, name: str) -> "RelayerSetup":
    """Relaying from account `name`, after checking it can relay on the configured chain
    (one line, exit 2, when not)."""
    from app.chain.deploy import ManifestError
    from app.chain.keystore import KeystoreError
    from app.commands.context import signer
    from app.relayer.setup import RelayerSetup, relay_target

    try:
        account = signer(name)
        target = relay_target(settings)
    except (KeystoreError, ConnectionError, FileNotFoundError, ManifestError) as exc:
        fail(f"cannot relay from {name!r}: {exc}", code=2)
    typer.echo(f"relaying from {account.address} to registry {target.address}", err=True)
    return RelayerSetup(bytes(account.key), target.address)


def _register_groups() -> None:
    from app.commands import accounts, custody, deployments, handoff, items, members, qr, records, verify

    cli.add_typer(accounts.app, name="accounts")
    cli.add_typer(members.app, name="members")
    cli.add_typer(items.app, name="items")
    cli.add_typer(custody.app, name="custody")
    cli.add_typer(records.lots, name="lots")
    cli.add_typer(records.units, name="units")
    cli.add_typer(deployments.app, name="deployments")
    cli.add_typer(handoff.app, name="handoff")
    cli.command("qr")(qr.qr)
    cli.command("verify")(verify.verify)


def _reflow_help(app: typer.Typer) -> None:
    """Join the lines of each paragraph of every command's help: Typer's rich help keeps a
    docstring's line breaks, which then break mid-sentence wherever the terminal wraps."""
    for info in app.registered_commands:
        doc = info.help or inspect.getdoc(info.callback) or ""
        info.help = "\n\n".join(" ".join(paragraph.split()) for paragraph in doc.split("\n\n"))
    for group in app.registered_groups:
        if group.typer_instance is not None:
            _reflow_help(group.typer_instance)


_register_groups()
_reflow_help(cli)


def main() -> None:
    cli()


if __name__ == "__main__":  # `python -m app.cli`, as the console script `origintrace`
    main()
