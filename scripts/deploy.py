"""Deploy the OriginRegistry to the connected network and write deployments/<chainId>.json.

    ape run deploy                                            # ape's in-process test chain
    ape run deploy --network ethereum:local:foundry           # an anvil that ape starts
    ape run deploy --network http://127.0.0.1:8545 --account mykey

On a local network the first test account deploys unless --account names another.
The same code is `app.chain.deploy.deploy_registry` from Python.
"""

import click
from ape import accounts
from ape.cli import ConnectedProviderCommand

from app.chain.ape_accounts import local_account
from app.chain.deploy import deploy_registry, write_manifest


def _ape_account(alias: str | None, network_name: str):  # type: ignore[no-untyped-def]
    if alias is None:
        if network_name != "local":
            raise click.UsageError("--account is required outside local networks (an ape account alias)")
        return accounts.test_accounts[0]
    if alias.startswith("TEST::"):
        return accounts.test_accounts[int(alias.removeprefix("TEST::"))]
    return accounts.load(alias)


@click.command(cls=ConnectedProviderCommand, short_help="Deploy the OriginRegistry and write its manifest")
@click.option("--account", "alias", default=None, help="ape account alias, or TEST::<n> for a test account")
@click.option("--admin", default=None, help="Registry admin address (default: the deploying account)")
@click.option("--other-admin", "other_admins", multiple=True, help="Another consortium admin (repeatable)")
@click.option(
    "--threshold", default=1, show_default=True, help="Admin approvals each governance action needs"
)
def cli(network, provider, alias, admin, other_admins, threshold):  # type: ignore[no-untyped-def]
    admins = 1 + len(other_admins)
    if not 1 <= threshold <= admins:
        raise click.BadParameter(
            f"must be between 1 and the number of admins ({admins})", param_hint="--threshold"
        )
    deployer = local_account(_ape_account(alias, network.name))
    deployment = deploy_registry(provider.web3, deployer, admin, other_admins, threshold)
    path = write_manifest(deployment)
    click.echo(f"OriginRegistry deployed at {deployment.registry} on chain {deployment.chain_id}")
    click.echo(f"  block {deployment.deploy_block}, tx {deployment.deploy_tx}")
    click.echo(f"  manifest: {path}")
