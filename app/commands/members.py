"""`origintrace members`: consortium governance (k-of-n admin approval) and the member list.

Every change of the consortium is a proposal: the proposing admin's approval counts at once,
and the approval that reaches the registry's threshold executes it. With threshold 1 a
proposal executes in the same transaction. Two things need no proposal: any one admin can
pause the registry (an emergency brake), and an admin hands its own seat over.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

import typer
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD
from web3.types import TxReceipt

from app.chain.client import chain_time, send, utc_time
from app.chain.roles import role_id
from app.commands.context import (
    AccountOption,
    Chain,
    RegistryOption,
    RpcOption,
    clear_errors,
    counted,
    fail,
    open_chain,
    parse_address,
    registry_decoder,
    registry_logs,
    signer,
)
from app.commands.terminal import YesOption, confirm_irreversible
from app.gs1.keys import normalise_gln

app = typer.Typer(
    help="Consortium members and governance: propose, approve, remove, list, pause, admin handover.",
    no_args_is_help=True,
)
propose_app = typer.Typer(
    help="Propose a governance change (it executes once enough admins approve).", no_args_is_help=True
)
app.add_typer(propose_app, name="propose")


class Role(StrEnum):
    brand = "brand"
    certifier = "certifier"
    carrier = "carrier"
    customs = "customs"
    retailer = "retailer"

    @property
    def id(self) -> bytes:
        return role_id(self.value)


ADMIN_ROLE = b"\0" * 32
"""DEFAULT_ADMIN_ROLE: the consortium's admins."""

Address = Annotated[str, typer.Argument(help="The member's address")]
Roles = Annotated[list[Role], typer.Option("--role", help="Role to grant (repeatable)")]


def _propose(chain: Chain, account: str, call: ContractFunction, what: str) -> None:
    data = call._encode_transaction_data()
    receipt = send(chain.w3, signer(account), chain.registry.functions.propose(data))
    _report(chain, receipt, what)


def _report(chain: Chain, receipt: TxReceipt, what: str) -> None:
    events = chain.registry.events
    created = events.ProposalCreated().process_receipt(receipt, errors=DISCARD)
    approved = events.ProposalApproved().process_receipt(receipt, errors=DISCARD)
    proposal_id = created[0]["args"]["proposalId"] if created else approved[0]["args"]["proposalId"]
    threshold = chain.registry.functions.threshold().call()
    approvals = approved[-1]["args"]["approvals"] if approved else 0
    if events.ProposalExecuted().process_receipt(receipt, errors=DISCARD):
        typer.echo(f"{what}: done (proposal #{proposal_id}, {approvals}/{threshold} approvals)")
    else:
        _, _, expires_at = chain.registry.functions.proposalState(proposal_id).call()
        typer.echo(
            f"{what}: proposal #{proposal_id} has {approvals}/{threshold} approvals; other admins run "
            f"`origintrace members approve {proposal_id}` before {utc_time(expires_at)}"
        )


@propose_app.command()
def admit(
    address: Address,
    name: Annotated[str, typer.Option(help="Display name shown to shoppers")],
    account: AccountOption,
    rpc: RpcOption,
    role: Roles = [],  # noqa: B006 - typer reads the default, never mutates it
    gln: Annotated[str, typer.Option(help="GS1 Global Location Number (13 digits, valid check digit)")] = "",
    registry: RegistryOption = None,
) -> None:
    """Propose admitting a member (with name, GLN and roles)."""
    with clear_errors():
        member = parse_address(address, "address")
        gln = normalise_gln(gln) if gln else ""
        chain = open_chain(rpc, registry)
        functions = chain.registry.functions
        _check_not_member(chain, member)
        _propose(chain, account, functions.admitMember(member, name, gln), f"admit {name} ({member})")
        for each in role:
            _propose(chain, account, functions.grantRole(each.id, member), f"grant {each.value} to {member}")


def _check_not_member(chain: Chain, member: str) -> None:
    """Refuse (exit 2, nothing sent) admitting a member again: the registry would refuse the
    proposal, and what such an admission means to do has commands of its own."""
    if chain.registry.functions.isMember(member).call():
        name = chain.registry.functions.memberName(member).call()
        fail(
            f"{member} is a member already ({name}): `members propose grant` gives it roles,"
            " `members propose gln` its GLN",
            code=2,
        )


def _propose_roles(
    address: str, roles: list[Role], account: str, rpc: str, registry: str | None, grant: bool
) -> None:
    with clear_errors():
        member = parse_address(address, "address")
        chain = open_chain(rpc, registry)
        functions = chain.registry.functions
        change = functions.grantRole if grant else functions.revokeRole
        for each in roles:  # a proposal that changes nothing would still ask every admin to approve
            if functions.hasRole(each.id, member).call() == grant:
                held = "has the role" if grant else "does not have the role"
                fail(f"{member} {held} {each.value} already: nothing to propose (see `members list`)", code=2)
        for each in roles:
            what = f"grant {each.value} to {member}" if grant else f"revoke {each.value} from {member}"
            _propose(chain, account, change(each.id, member), what)


@propose_app.command()
def grant(
    address: Address, role: Roles, account: AccountOption, rpc: RpcOption, registry: RegistryOption = None
) -> None:
    """Propose granting roles to a member."""
    _propose_roles(address, role, account, rpc, registry, grant=True)


@propose_app.command()
def revoke(
    address: Address, role: Roles, account: AccountOption, rpc: RpcOption, registry: RegistryOption = None
) -> None:
    """Propose revoking roles from a member."""
    _propose_roles(address, role, account, rpc, registry, grant=False)


@propose_app.command()
def threshold(
    approvals: Annotated[int, typer.Argument(min=1, help="Approvals a change needs")],
    account: AccountOption,
    rpc: RpcOption,
    registry: RegistryOption = None,
) -> None:
    """Propose a new approval threshold (k of the n admins)."""
    with clear_errors():
        chain = open_chain(rpc, registry)
        admins = chain.registry.functions.adminCount().call()
        if approvals == chain.registry.functions.threshold().call():
            fail(f"the threshold is {approvals} already: nothing to propose", code=2)
        if approvals > admins:
            fail(
                f"the consortium has {counted(admins, 'admin')}: a threshold above that could never be met",
                code=2,
            )
        _propose(chain, account, chain.registry.functions.setThreshold(approvals), f"threshold {approvals}")


@propose_app.command()
def gln(
    address: Address,
    number: Annotated[str, typer.Argument(help="GS1 Global Location Number (13 digits, valid check digit)")],
    account: AccountOption,
    rpc: RpcOption,
    registry: RegistryOption = None,
) -> None:
    """Propose setting a member's GLN (the place shoppers see)."""
    with clear_errors():
        member = parse_address(address, "address")
        number = normalise_gln(number)
        chain = open_chain(rpc, registry)
        if chain.registry.functions.memberGln(member).call() == number:
            fail(f"{member}'s GLN is {number} already: nothing to propose", code=2)
        call = chain.registry.functions.setMemberGln(member, number)
        _propose(chain, account, call, f"GLN {number} for {member}")


@propose_app.command()
def unpause(account: AccountOption, rpc: RpcOption, registry: RegistryOption = None) -> None:
    """Propose resuming the registry after `members pause` (resuming needs the threshold)."""
    with clear_errors():
        chain = open_chain(rpc, registry)
        if not chain.registry.functions.paused().call():
            fail("the registry is not paused", code=2)
        _propose(chain, account, chain.registry.functions.unpause(), "resume the registry")


@app.command()
def pause(account: AccountOption, rpc: RpcOption, registry: RegistryOption = None) -> None:
    """Pause the registry at once, as any single admin: the emergency brake.

    Every record write (registration, custody move, sale, claim, status change, packing,
    attestation) is refused until the admins resume it with `members propose unpause` (that
    needs the approval threshold). Governance and admin seat handovers keep working.
    """
    with clear_errors():
        chain = open_chain(rpc, registry)
        if chain.registry.functions.paused().call():
            fail("the registry is already paused; `members propose unpause` resumes it", code=2)
        send(chain.w3, signer(account), chain.registry.functions.pause())
    typer.echo(
        "registry paused: every record write (registration, custody, status, attestation) is refused"
        " until the admins approve `origintrace members propose unpause`; governance keeps working"
    )


handover_app = typer.Typer(
    help="Hand an admin seat to another account: the receiver takes it 2 days after it is offered.",
    no_args_is_help=True,
)
app.add_typer(handover_app, name="handover")


@handover_app.command("start")
def handover_start(
    to: Annotated[str, typer.Argument(help="The account that takes over your admin seat")],
    account: AccountOption,
    rpc: RpcOption,
    registry: RegistryOption = None,
) -> None:
    """Offer your admin seat to `to` (replaces an earlier offer of yours); you stay admin until it accepts."""
    with clear_errors():
        receiver = parse_address(to, "to")
        chain = open_chain(rpc, registry)
        if chain.registry.functions.hasRole(ADMIN_ROLE, receiver).call():
            fail(f"{receiver} is an admin already: a seat goes to an account that is not one", code=2)
        receipt = send(chain.w3, signer(account), chain.registry.functions.beginAdminHandover(receiver))
        started = chain.registry.events.AdminHandoverStarted().process_receipt(receipt, errors=DISCARD)
        sender = started[0]["args"]["from"]
    typer.echo(
        f"admin seat offered to {receiver}: it runs `origintrace members handover accept {sender}`"
        f" from {utc_time(started[0]['args']['readyAt'])}"
    )


@handover_app.command("cancel")
def handover_cancel(account: AccountOption, rpc: RpcOption, registry: RegistryOption = None) -> None:
    """Withdraw your pending admin seat offer."""
    with clear_errors():
        chain = open_chain(rpc, registry)
        send(chain.w3, signer(account), chain.registry.functions.cancelAdminHandover())
    typer.echo("admin seat offer withdrawn")


@handover_app.command("accept")
def handover_accept(
    from_: Annotated[str, typer.Argument(metavar="FROM", help="The admin who offered you its seat")],
    account: AccountOption,
    rpc: RpcOption,
    registry: RegistryOption = None,
) -> None:
    """Take over the admin seat `FROM` offered you, once its 2-day delay has passed."""
    with clear_errors():
        admin = parse_address(from_, "FROM")
        chain = open_chain(rpc, registry)
        send(chain.w3, signer(account), chain.registry.functions.acceptAdminHandover(admin))
    typer.echo(f"you are now an admin in place of {admin}")


def _removal_warning(chain: Chain, member: str, approvals_after: int) -> str:
    """What removing `member` does, for its confirmation; `approvals_after`: the proposal's
    approvals once this admin's counts."""
    name = chain.registry.functions.memberName(member).call()
    when = (
        "at once"
        if approvals_after >= chain.registry.functions.threshold().call()
        else "once the other admins approve"
    )
    who = f"{name} ({member})" if name else f"{member} (no longer a member)"
    return (
        f"Remove {who} from the consortium, {when}: its name, GLN and roles are deleted for"
        " good, and taking it back is a new admission with new role grants."
    )


@app.command()
def remove(
    address: Address,
    account: AccountOption,
    rpc: RpcOption,
    registry: RegistryOption = None,
    yes: YesOption = False,
) -> None:
    """Propose removing a member (its member roles are revoked with it). Asks first (--yes does not)."""
    with clear_errors():
        member = parse_address(address, "address")
        chain = open_chain(rpc, registry)
        if not chain.registry.functions.isMember(member).call():
            fail(f"{member} is not a member (see `origintrace members list`)", code=2)
        confirm_irreversible(_removal_warning(chain, member, 1), yes)
        _propose(chain, account, chain.registry.functions.removeMember(member), f"remove {member}")


@app.command()
def approve(
    proposal: Annotated[int, typer.Argument(help="Proposal number")],
    account: AccountOption,
    rpc: RpcOption,
    registry: RegistryOption = None,
    yes: YesOption = False,
) -> None:
    """Approve a pending proposal as an admin (`members proposals` lists them with what they do);
    approving a member's removal asks first (--yes does not)."""
    with clear_errors():
        chain = open_chain(rpc, registry)
        pending = {p.number: p for p in _proposals(chain)}
        if proposal in pending:
            shown = pending[proposal]
            typer.echo(f"#{proposal}: {shown.call}")
            if shown.removes is not None:
                confirm_irreversible(_removal_warning(chain, shown.removes, shown.approvals + 1), yes)
        receipt = send(chain.w3, signer(account), chain.registry.functions.approve(proposal))
        _report(chain, receipt, f"approve #{proposal}")


@dataclass(frozen=True)
class _Proposal:
    number: int
    call: str
    """What it does, decoded: `admitMember(account=0x..., name=..., gln=...)`."""
    approvals: int
    expires_at: int
    removes: str | None = None
    """The member it removes, for a `removeMember` proposal."""


def _proposals(chain: Chain) -> list[_Proposal]:
    """The proposals not executed and not expired, oldest first."""
    created = registry_logs(chain, [chain.registry.events.ProposalCreated.topic])
    decoder = registry_decoder()
    state = chain.registry.functions.proposalState
    now = chain_time(chain.w3)
    found = []
    for log in created:
        args = decoder.decode(log, 0).args
        approvals, executed, expires_at = state(args["proposalId"]).call()
        if executed or expires_at < now:
            continue
        removes = None
        try:
            function, values = chain.registry.decode_function_input(args["data"])
            call = f"{function.fn_name}({', '.join(f'{k}={_shown(v)}' for k, v in values.items())})"
            removes = values["account"] if function.fn_name == "removeMember" else None
        except ValueError:
            call = f"unknown call {str(args['data'])[:10]}"
        found.append(_Proposal(args["proposalId"], call, approvals, expires_at, removes))
    return found


def _shown(value: object) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)


@app.command()
def proposals(rpc: RpcOption, registry: RegistryOption = None) -> None:
    """List the pending proposals: what each does, its approvals and until when it can pass."""
    with clear_errors():
        chain = open_chain(rpc, registry)
        pending = _proposals(chain)
        threshold = chain.registry.functions.threshold().call()
    if not pending:
        typer.echo("no pending proposals")
    for each in pending:
        until = utc_time(each.expires_at)
        typer.echo(f"#{each.number}  {each.approvals}/{threshold} approvals, until {until}: {each.call}")


@dataclass
class _Member:
    name: str
    roles: set[str] = field(default_factory=set)
    gln: str = ""


@app.command("list")
def list_(rpc: RpcOption, registry: RegistryOption = None) -> None:
    """List the members, their roles and GLN, read from the registry's events on chain."""
    with clear_errors():
        chain = open_chain(rpc, registry)
        events = chain.registry.events
        kinds = [
            events.MemberAdmitted,
            events.MemberRemoved,
            events.MemberGlnSet,
            events.RoleGranted,
            events.RoleRevoked,
        ]
        raw = registry_logs(chain, [[kind.topic for kind in kinds]])
    decoder = registry_decoder()
    role_names = {"0x" + r.id.hex(): r.value for r in Role}
    members: dict[str, _Member] = {}
    for log in raw:
        entry = decoder.decode(log, 0)
        account = str(entry.args.get("account"))
        if entry.name == "MemberAdmitted":
            members[account] = _Member(entry.args["name"])
        elif entry.name == "MemberRemoved":
            members.pop(account, None)
        elif entry.name == "MemberGlnSet" and account in members:
            members[account].gln = entry.args["gln"]
        elif entry.name in ("RoleGranted", "RoleRevoked") and account in members:
            role = role_names.get(entry.args["role"])
            if role and entry.name == "RoleGranted":
                members[account].roles.add(role)
            elif role:
                members[account].roles.discard(role)
    if not members:
        typer.echo("no members yet")
        return
    typer.echo(f"{'address':<42}  {'name':<40} {'roles':<20} GLN")
    for address, member in sorted(members.items(), key=lambda kv: kv[1].name):
        roles = ",".join(sorted(member.roles)) or "-"
        typer.echo(f"{address}  {member.name:<40} {roles:<20} {member.gln or '-'}")
