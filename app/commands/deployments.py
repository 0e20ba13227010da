"""`origintrace deployments`: deployment manifests and source-verification bundles."""

from pathlib import Path
from typing import Annotated

import typer

from app.chain.deploy import ManifestError, load_manifest
from app.chain.verification import write_bundle
from app.commands.context import writing
from app.core.config import get_settings

app = typer.Typer(help="Deployment manifests and source verification.", no_args_is_help=True)


@app.command("list")
def list_() -> None:
    """List the deployment manifests (deployments/<chainId>.json)."""
    manifests = sorted(get_settings().deployments_dir.glob("*.json"))
    if not manifests:
        typer.echo(f"no deployments in {get_settings().deployments_dir}; deploy with `ape run deploy`")
    for path in manifests:
        try:
            deployment = load_manifest(path)
        except ManifestError as exc:
            typer.secho(f"warning: {exc}; skipped", err=True, fg=typer.colors.YELLOW)
            continue
        block = deployment.deploy_block
        typer.echo(f"chain {deployment.chain_id:<10} {deployment.registry}  block {block}  ({path})")


@app.command("verification-bundle")
def verification_bundle(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the bundle into")] = Path(
        "verification"
    ),
) -> None:
    """Write the standard-JSON input, metadata and sources to verify the registry's source."""
    with writing(out):
        written = write_bundle(out)
    typer.echo(f"wrote {len(written)} files to {out}:")
    typer.echo(f"  {written[0]}  (Etherscan: Solidity Standard-Json-Input)")
    typer.echo(f"  {written[1]}  (Sourcify: metadata.json with the files under {out / 'sources'})")
