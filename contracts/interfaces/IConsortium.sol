// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IConsortium
/// @notice Consortium governance: members (name, GS1 GLN), roles, k-of-n admin approval,
/// two-step delayed admin handover and the emergency pause.
/// @dev Governance actions are calls to this contract's own governance functions
/// ({admitMember}, {removeMember}, {setMemberGln}, {grantRole}, {revokeRole},
/// {setThreshold}, {pause}, {unpause}). An admin calls them directly while the threshold is 1;
/// above 1 they only run as an approved proposal: {propose} records the call data and the
/// proposer's approval, {approve} adds approvals, and the approval that reaches the threshold
/// executes the call (the executed call then sees `msg.sender == address(this)`).
/// OpenZeppelin's {RoleGranted}/{RoleRevoked}/{Paused}/{Unpaused} events are emitted as usual.
interface IConsortium {
    // ----------------------------------------------------------------- events

    /// @notice `account` was admitted to the consortium under the display `name`.
    event MemberAdmitted(address indexed account, string name);

    /// @notice `account` left the consortium: its name and GLN are cleared and its member roles
    /// revoked (each revocation also emits {RoleRevoked}).
    event MemberRemoved(address indexed account);

    /// @notice The GS1 Global Location Number of `account` is now `gln` (13 digits with a valid
    /// check digit, or "" for none).
    event MemberGlnSet(address indexed account, string gln);

    /// @notice The number of admin approvals a governance action needs changed to `threshold`.
    event ThresholdChanged(uint256 previous, uint256 threshold);

    /// @notice Admin `proposer` proposed governance call `data` as proposal `proposalId`,
    /// approvable until `expiresAt`.
    event ProposalCreated(uint256 indexed proposalId, address indexed proposer, bytes data, uint64 expiresAt);

    /// @notice Admin `admin` approved `proposalId`; it now has `approvals` approvals from current
    /// admins (an approval lapses when its admin loses the admin role).
    event ProposalApproved(uint256 indexed proposalId, address indexed admin, uint256 approvals);

    /// @notice `proposalId` reached the threshold and its call was executed.
    event ProposalExecuted(uint256 indexed proposalId);

    /// @notice Admin `from` started handing its admin seat to `to`; `to` can accept from `readyAt`.
    event AdminHandoverStarted(address indexed from, address indexed to, uint64 readyAt);

    /// @notice Admin `from` withdrew its pending handover to `to`.
    event AdminHandoverCancelled(address indexed from, address indexed to);

    /// @notice `to` accepted the admin seat of `from` (also emits {RoleRevoked} and {RoleGranted}).
    event AdminHandoverCompleted(address indexed from, address indexed to);

    // ----------------------------------------------------------------- errors

    /// @notice `account` is not an admitted consortium member.
    error RegistryNotMember(address account);

    /// @notice `account` is already a consortium member.
    error RegistryAlreadyMember(address account);

    /// @notice A member needs a non-empty display name; `account` may not be the zero address.
    error RegistryInvalidMember(address account);

    /// @notice A GLN is 13 decimal digits ending in its GS1 check digit (or "" to clear it);
    /// `gln` is not.
    error ConsortiumInvalidGln(string gln);

    /// @notice The action needs `threshold` admin approvals: propose it with {propose}.
    error ConsortiumApprovalRequired(uint256 threshold);

    /// @notice `threshold` must be between 1 and the number of admins, `admins`.
    error ConsortiumInvalidThreshold(uint256 threshold, uint256 admins);

    /// @notice Admins must be distinct, non-zero addresses; `account` is not.
    error ConsortiumInvalidAdmin(address account);

    /// @notice Only governance functions can be proposed; `selector` is not one.
    error ConsortiumUnsupportedAction(bytes4 selector);

    /// @notice `proposalId` does not exist.
    error ConsortiumUnknownProposal(uint256 proposalId);

    /// @notice `proposalId` was already executed.
    error ConsortiumProposalExecuted(uint256 proposalId);

    /// @notice `proposalId` expired at `expiresAt` without reaching the threshold: propose it again.
    error ConsortiumProposalExpired(uint256 proposalId, uint64 expiresAt);

    /// @notice `admin` already approved `proposalId`.
    error ConsortiumAlreadyApproved(uint256 proposalId, address admin);

    /// @notice There is no pending admin handover from `from` to the caller.
    error ConsortiumNoHandover(address from);

    /// @notice The handover from `from` can only be accepted from `readyAt`.
    error ConsortiumHandoverNotReady(address from, uint64 readyAt);

    /// @notice Roles change only through governance; renouncing is disabled.
    error ConsortiumRenounceDisabled();

    // ----------------------------------------------------------------- governance actions

    /// @notice Admits `account` to the consortium with display name `name`.
    /// @dev Requirements: governance; `account` is not a member. Roles are granted separately
    /// with `grantRole`. Emits {MemberAdmitted}.
    function admitMember(address account, string calldata name) external;

    /// @notice Admits `account` with display name `name` and GS1 GLN `gln`.
    /// @dev Requirements: as {admitMember}; `gln` is a valid GLN (13 digits, GS1 check digit).
    /// Emits {MemberAdmitted}, {MemberGlnSet}.
    function admitMember(address account, string calldata name, string calldata gln) external;

    /// @notice Removes the member `account` and revokes its member roles.
    /// @dev Requirements: governance; `account` is a member. Emits {MemberRemoved} and {RoleRevoked}s.
    function removeMember(address account) external;

    /// @notice Sets the GS1 GLN of member `account`.
    /// @dev Requirements: governance; `account` is a member; `gln` is a valid GLN or "".
    /// Emits {MemberGlnSet}.
    function setMemberGln(address account, string calldata gln) external;

    /// @notice Sets the number of admin approvals governance actions need.
    /// @dev Requirements: governance; 1 <= `threshold` <= admin count. Emits {ThresholdChanged}.
    function setThreshold(uint256 threshold) external;

    /// @notice Pauses every item, lot, unit, custody and attestation write.
    /// @dev Requirements: any single admin (an emergency brake needs no quorum) or governance.
    /// Emits {Paused}.
    function pause() external;

    /// @notice Resumes writes after {pause}.
    /// @dev Requirements: governance. Emits {Unpaused}.
    function unpause() external;

    // ----------------------------------------------------------------- proposals

    /// @notice Proposes governance call `data` and approves it as the caller.
    /// @dev Requirements: caller is an admin; `data` calls a governance action. Executes at
    /// once when the threshold is 1. Emits {ProposalCreated}, {ProposalApproved}, maybe {ProposalExecuted}.
    function propose(bytes calldata data) external returns (uint256 proposalId);

    /// @notice Approves `proposalId`; the approval that reaches the threshold executes it.
    /// @dev Requirements: caller is an admin that has not approved it; not executed yet; not
    /// older than {PROPOSAL_LIFETIME} (so an old proposal cannot pass after the admins changed); the
    /// call must succeed (its revert is passed through). Emits {ProposalApproved}, maybe {ProposalExecuted}.
    function approve(uint256 proposalId) external;

    // ----------------------------------------------------------------- admin handover

    /// @notice Starts handing the caller's admin seat to `to`, acceptable after {ADMIN_HANDOVER_DELAY}.
    /// A handover ends when its admin loses the admin role.
    /// @dev Requirements: caller is an admin; `to` is a non-zero non-admin. Replaces a pending
    /// handover of the caller. Emits {AdminHandoverStarted}.
    function beginAdminHandover(address to) external;

    /// @notice Withdraws the caller's pending admin handover. Emits {AdminHandoverCancelled}.
    function cancelAdminHandover() external;

    /// @notice Takes over the admin seat of `from` after the delay.
    /// @dev Requirements: `from` started a handover to the caller at least the delay ago and
    /// is still an admin. Emits {RoleRevoked}, {RoleGranted}, {AdminHandoverCompleted}.
    function acceptAdminHandover(address from) external;

    // ----------------------------------------------------------------- views

    /// @notice Whether `account` is an admitted member.
    function isMember(address account) external view returns (bool);

    /// @notice Display name of the member `account` ("" when not a member).
    function memberName(address account) external view returns (string memory);

    /// @notice GS1 GLN of the member `account` ("" when none).
    function memberGln(address account) external view returns (string memory);

    /// @notice Admin approvals a governance action needs.
    function threshold() external view returns (uint256);

    /// @notice Number of admins (holders of DEFAULT_ADMIN_ROLE).
    function adminCount() external view returns (uint256);

    /// @notice Approvals of `proposalId` by current admins, whether it was executed, and until
    /// when it can be approved.
    function proposalState(uint256 proposalId)
        external
        view
        returns (uint256 approvals, bool executed, uint64 expiresAt);
}
