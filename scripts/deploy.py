"""Deploy the OriginRegistry to the connected network and write deployments/<chainId>.json.

    ape run deploy                                            # ape's in-process test chain
    ape run deploy --network ethereum:local:foundry           # an anvil that ape starts
    ape run deploy --network http://127.0.0.1:8545 --account mykey

On a local network the first test account deploys unless --account names another.
The same code is `app.chain.deploy.deploy_registry` from Python.
"""

from pathlib import Path

import click
from ape import accounts
from ape.cli import ConnectedProviderCommand
from eth_account import Account
from eth_account.signers.local import LocalAccount

from app.chain.bootstrap import PlanError, apply_plan, load_plan
from app.chain.client import TransactionFailed, registry
from app.chain.deploy import (
    DeploymentError,
    deploy_registry,
    known_deployment,
    manifest_path,
    salt_bytes,
    write_manifest,
)
from app.commands.context import signer


class InputError(click.ClickException):
    """Something to fix in the command (exit 2, as `origintrace` commands)."""

    exit_code = 2


def _ape_account(alias: str | None, network_name: str):  # type: ignore[no-untyped-def]
    if alias is None:
        if network_name != "local":
            raise click.UsageError("--account is required outside local networks (an ape account alias)")
        return accounts.test_accounts[0]
    if alias.startswith("TEST::"):
        try:
            return accounts.test_accounts[int(alias.removeprefix("TEST::"))]
        except (ValueError, IndexError):
            raise click.BadParameter(f"{alias!r}: no such test account", param_hint="--account") from None
    try:
        return accounts.load(alias)
    except KeyError:
        raise click.BadParameter(
            f"no ape account {alias!r}; see `ape accounts list` or import one with"
            " `origintrace accounts import NAME`",
            param_hint="--account",
        ) from None


def _deployer(alias: str | None, network_name: str) -> LocalAccount:
    """The deploying account, unlocked: a test account's key, or a keystore unlocked as every
    `origintrace` command unlocks one (asked again when typed wrong at a terminal)."""
    account = _ape_account(alias, network_name)
    key = getattr(account, "private_key", None)
    if key:
        test_account: LocalAccount = Account.from_key(key)
        return test_account
    if getattr(account, "keyfile", None) is None:
        raise InputError(f"account {account.address} cannot sign locally (hardware or remote signer)")
    try:
        return signer(account.alias)
    except ValueError as exc:  # a wrong passphrase (KeystoreError)
        raise InputError(str(exc)) from None


@click.command(cls=ConnectedProviderCommand, short_help="Deploy the OriginRegistry and write its manifest")
@click.option("--account", "alias", default=None, help="ape account alias, or TEST::<n> for a test account")
@click.option("--admin", default=None, help="Registry admin address (default: the deploying account)")
@click.option("--other-admin", "other_admins", multiple=True, help="Another consortium admin (repeatable)")
@click.option(
    "--threshold", default=1, show_default=True, help="Admin approvals each governance action needs"
)
@click.option(
    "--consortium",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML file of admins, threshold and members to bootstrap (see app/chain/bootstrap.py)",
)
@click.option(
    "--salt", default=None, help="Deploy through the CREATE2 factory with this salt (text or 0x-hex)"
)
@click.option(
    "--resume",
    is_flag=True,
    help="Finish the --consortium bootstrap of the registry the chain's manifest names (after one cut short)",
)
def cli(network, provider, alias, admin, other_admins, threshold, consortium, salt, resume):  # type: ignore[no-untyped-def]
    deployer = _deployer(alias, network.name)
    plan = None
    if consortium is not None:
        try:
            plan = load_plan(consortium)
        except PlanError as exc:
            raise click.BadParameter(str(exc), param_hint="--consortium") from None
        if admin is not None:
            raise click.BadParameter(
                "the consortium file lists the admins; leave out --admin", param_hint="--admin"
            )
        if plan.admins and deployer.address not in plan.admins:
            raise click.BadParameter(
                f"its admins do not include the deploying account {deployer.address}, which bootstraps"
                " the members as an admin: add it, or deploy from one of them",
                param_hint="--consortium",
            )
        other_admins = tuple(a for a in plan.admins if a != deployer.address)
        threshold = 1  # the file's threshold is set through governance once the members are in
    admins = 1 + len(other_admins)
    if not 1 <= threshold <= admins:
        raise click.BadParameter(
            f"must be between 1 and the number of admins ({admins})", param_hint="--threshold"
        )
    w3 = provider.web3
    known = known_deployment(w3.eth.chain_id)
    live = known is not None and bool(w3.eth.get_code(known.registry))
    if resume and (not live or plan is None or known is None or known.deployer != deployer.address):
        raise click.UsageError(
            "--resume finishes a --consortium bootstrap of the registry this account deployed, named by"
            f" {manifest_path(w3.eth.chain_id)} and live on this chain"
        )
    listed = {a.lower() for a in plan.admins} if plan is not None else set()
    if resume and known is not None and listed and listed != {a.lower() for a in known.admins}:
        raise click.UsageError(
            f"the file's admins are not the registry's ({', '.join(known.admins)}): a registry's"
            " admins are set when it is deployed, so this is another consortium's file"
        )
    resumed = known if resume else None
    if resumed is None:
        if live and known is not None:
            raise click.ClickException(
                f"{manifest_path(known.chain_id)} names the registry {known.registry}, deployed on this"
                " chain: add --resume to finish its bootstrap, or move that file away to deploy another"
                " (members and gateways use it)"
            )
        try:
            deployment = deploy_registry(w3, deployer, admin, other_admins, threshold, salt_bytes(salt))
        except (DeploymentError, TransactionFailed) as exc:
            raise click.ClickException(str(exc)) from None
        path = write_manifest(deployment)  # before the bootstrap: a bootstrap cut short can be finished
        click.echo(f"OriginRegistry deployed at {deployment.registry} on chain {deployment.chain_id}")
        click.echo(f"  block {deployment.deploy_block}, tx {deployment.deploy_tx}")
        click.echo(f"  manifest: {path}")
    else:
        deployment = resumed
        click.echo(
            f"OriginRegistry {deployment.registry} of {manifest_path(deployment.chain_id)}:"
            " finishing its bootstrap"
        )
    if plan is not None:
        # The manifest keeps the constructor's arguments (source verification needs them); the
        # file's threshold is the registry's now, set through governance.
        try:
            apply_plan(w3, registry(w3, deployment.registry), deployer, plan)
        except TransactionFailed as exc:
            raise click.ClickException(
                f"the registry is deployed at {deployment.registry}, but bootstrapping the consortium"
                f" stopped: {exc}. Fix that and run the same command with --resume to finish it"
            ) from None
        click.echo(f"bootstrapped {len(plan.members)} members, threshold {plan.threshold}")
