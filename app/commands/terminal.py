"""Asking the member at a terminal: whether one is there, and confirming what cannot be undone.

Irreversible commands (a sale without a claim code, a recall, a destruction, revoking an
attestation, removing a member) say what will happen and ask "Continue? [y/N]" first, as git,
gh and kubectl do; `--yes` skips the question. Without a terminal (a script, CI) and without
`--yes` they refuse, so a script never does what cannot be undone by accident.
"""

import sys
from typing import Annotated

import typer

YesOption = Annotated[
    bool,
    typer.Option(
        "--yes", "-y", help="Do not ask to confirm what cannot be undone (needed without a terminal)"
    ),
]


class NotConfirmed(Exception):
    """An irreversible step the member did not confirm: nothing was sent. `code` is the exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def interactive() -> bool:
    """Whether a member can answer a prompt: stdin is a terminal."""
    return sys.stdin.isatty()


def confirm_irreversible(what: str, yes: bool) -> None:
    """Show `what` (one or two sentences naming the record or member) and ask to continue,
    unless `yes`; raise NotConfirmed when the member declines (exit 1) or no terminal can ask
    (exit 2)."""
    if yes:
        return
    if not interactive():
        raise NotConfirmed(
            f"{what} This cannot be undone, and there is no terminal to confirm it:"
            " add --yes to do it without asking. Nothing was sent.",
            code=2,
        )
    typer.echo(what, err=True)
    if not typer.confirm("Continue?", default=False, err=True):
        raise NotConfirmed("not confirmed: nothing was sent", code=1)
