"""`origintrace deployments`: deployment manifests and source-verification bundles."""

import json
from pathlib import Path
from typing import Annotated

import typer

from app.chain.verification import write_bundle
from app.core.config import get_settings

app = typer.Typer(help="Deployment manifests and source verification.", no_args_is_help=True)


@app.command("list")
def list_() -> None:
    """List the deployment manifests (deployments/<chainId>.json)."""
    manifests = sorted(get_settings().deployments_dir.glob("*.json"))
    if not manifests:
        typer.echo(f"no deployments in {get_settings().deployments_dir}; deploy with `ape run deploy`")
    for path in manifests:
        data = json.loads(path.read_text())
        registry = data["contracts"]["OriginRegistry"]
        typer.echo(
            f"chain {data['chainId']:<10} {registry['address']}  block {registry['deployBlock']}  ({path})"
        )


@app.command("verification-bundle")
def verification_bundle(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the bundle into")] = Path(
        "verification"
    ),
) -> None:
    """Write the standard-JSON input, metadata and sources to verify the registry's source."""
    written = write_bundle(out)
    typer.echo(f"wrote {len(written)} files to {out}:")
    typer.echo(f"  {written[0]}  (Etherscan: Solidity Standard-Json-Input)")
    typer.echo(f"  {written[1]}  (Sourcify: metadata.json with the files under {out / 'sources'})")
