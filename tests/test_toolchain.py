"""The Foundry tools: those `make` runs from bin/ answer with the tool's own exit code, and a
devnet leaves nothing on disk once stopped."""

import subprocess

import pytest
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

from app.chain.devnet import running_devnet
from app.core.config import PROJECT_ROOT


@pytest.mark.parametrize("tool", ["forge", "cast", "anvil"])
def test_a_failing_foundry_tool_fails_the_command_that_ran_it(tool: str) -> None:
    """npm's @foundry-rs launchers (node_modules/.bin) exit 0 whatever the tool returns: a
    failing `forge test` passed `make test`, and CI with it."""
    failed = subprocess.run([PROJECT_ROOT / "bin" / tool, "--no-such-option"], capture_output=True, text=True)
    assert failed.returncode == 2, failed.stderr
    assert "--no-such-option" in failed.stderr
    version = subprocess.run([PROJECT_ROOT / "bin" / tool, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and "1.7.1" in version.stdout


def test_make_runs_the_tools_of_bin_before_npms_launchers() -> None:
    path = subprocess.run(
        ["make", "-s", "--no-print-directory", "-f", "-", "where"],
        input="include Makefile\nwhere:\n\t@command -v forge\n",
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert path == str(PROJECT_ROOT / "bin" / "forge")


def test_a_stopped_devnet_leaves_none_of_its_states_on_disk() -> None:
    """Anvil writes older states to disk (gigabytes for a test session's chain) and left them
    in ~/.foundry/anvil/tmp when stopped: 76 GB there after a day of test runs."""
    with running_devnet("anvil") as node:
        Web3(HTTPProvider(node.rpc_url)).provider.make_request(RPCEndpoint("anvil_mine"), [hex(1500)])
        assert node.state_dir is not None and any(node.state_dir.iterdir())  # where it wrote them
    assert not node.state_dir.exists()
