"""What every process of a gateway needs to relay, checked once at start, and the relayer it builds."""

from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.exceptions import BadResponseFormat
from web3.types import RPCResponse

from app.chain.client import connect, registry
from app.chain.deploy import load_manifest, manifest_path
from app.core.config import Settings
from app.relayer.service import Relayer

NODE_TIMEOUT_S = 10
"""Seconds a gateway's relayer waits for one answer of the node."""


def _rpc_url(settings: Settings) -> str:
    if not settings.rpc_url:
        raise ConnectionError("a relayer needs ORIGINTRACE_RPC_URL: the chain it sends to")
    return settings.rpc_url


def relay_target(settings: Settings) -> Contract:
    """The registry a gateway's relayer sends to: the deployment manifest's, on the chain of
    ORIGINTRACE_RPC_URL."""
    w3 = connect(_rpc_url(settings))
    return registry(w3, load_manifest(manifest_path(w3.eth.chain_id, settings.deployments_dir)).registry)


class _NodeProvider(HTTPProvider):
    """An HTTP provider for which an answer that is not JSON (a proxy's HTML page) is a
    BadResponseFormat, as one that is JSON but not JSON-RPC is: the node did not answer."""

    @staticmethod
    def decode_rpc_response(raw_response: bytes) -> RPCResponse:
        try:
            return HTTPProvider.decode_rpc_response(raw_response)
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            raise BadResponseFormat(f"the node's answer is not JSON: {exc}") from None


@dataclass(frozen=True)
class RelayerSetup:
    """What every process of a gateway needs to relay: the account's key and the registry
    address, checked against the chain once, at start (`relay_target`)."""

    key: bytes
    registry: str

    def relayer(self, settings: Settings, engine: Engine) -> Relayer:
        """The relayer of one gateway process, locked with the other processes of the machine
        that relay from the same account. It does not call the node: a node that is down when
        a process starts costs only the relay requests (503 until it answers), not the gateway.
        Each node call is tried once, for up to NODE_TIMEOUT_S: web3 by default tries a read
        five times on a timeout or an HTTP error, which with a 30 s timeout held a relay
        request (and its thread) for two and a half minutes on a node that hangs; the client
        retries instead (Retry-After). Raises ConnectionError without ORIGINTRACE_RPC_URL."""
        provider = _NodeProvider(
            _rpc_url(settings), request_kwargs={"timeout": NODE_TIMEOUT_S}, exception_retry_configuration=None
        )
        w3 = Web3(provider)
        account: LocalAccount = Account.from_key(self.key)
        lock_file = settings.data_dir / "relayer.lock"
        return Relayer(
            w3, registry(w3, self.registry), account, engine, lock_file, settings.relay_stuck_after_s
        )
