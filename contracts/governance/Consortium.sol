// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IConsortium} from "../interfaces/IConsortium.sol";

/// @title Consortium
/// @notice Members, roles and k-of-n governance of an OriginTrace consortium.
/// @dev Admins are the holders of DEFAULT_ADMIN_ROLE. See {IConsortium} for the model.
abstract contract Consortium is IConsortium, AccessControl, Pausable {
    bytes32 public constant BRAND_ROLE = keccak256("BRAND_ROLE");
    bytes32 public constant CERTIFIER_ROLE = keccak256("CERTIFIER_ROLE");
    bytes32 public constant CARRIER_ROLE = keccak256("CARRIER_ROLE");
    bytes32 public constant CUSTOMS_ROLE = keccak256("CUSTOMS_ROLE");
    bytes32 public constant RETAILER_ROLE = keccak256("RETAILER_ROLE");

    /// @notice Time between starting and accepting an admin handover.
    uint64 public constant ADMIN_HANDOVER_DELAY = 2 days;

    /// @notice Time a proposal can gather approvals, from its creation.
    uint64 public constant PROPOSAL_LIFETIME = 14 days;

    struct Proposal {
        bytes data;
        bool executed;
        uint64 expiresAt;
        address[] approvers;
    }

    struct Handover {
        address to;
        uint64 readyAt;
    }

    uint256 private _threshold;
    uint256 private _adminCount;
    uint256 private _proposalCount;
    uint32 private _memberCount;

    mapping(address account => string name) private _memberNames;
    mapping(address account => string gln) private _memberGlns;
    /// @dev Permanent 1-based index of every account ever admitted; items record their brand by it.
    mapping(address account => uint32 index) internal _memberIndex;
    mapping(uint32 index => address account) internal _memberByIndex;
    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => mapping(address admin => bool)) private _approved;
    mapping(address admin => Handover) private _handovers;

    /// @dev Governance action: a direct admin call while the threshold is 1, else an executed proposal.
    modifier onlyGovernance() {
        _checkGovernance();
        _;
    }

    /// @param admins The consortium's admins. @param threshold_ Approvals a governance action needs.
    constructor(address[] memory admins, uint256 threshold_) {
        for (uint256 i = 0; i < admins.length; ++i) {
            if (admins[i] == address(0) || !_grantRole(DEFAULT_ADMIN_ROLE, admins[i])) {
                revert ConsortiumInvalidAdmin(admins[i]);
            }
        }
        _setThreshold(threshold_);
    }

    // ----------------------------------------------------------------- members

    /// @inheritdoc IConsortium
    function admitMember(address account, string calldata name) external onlyGovernance {
        _admit(account, name);
    }

    /// @inheritdoc IConsortium
    function admitMember(address account, string calldata name, string calldata gln) external onlyGovernance {
        _admit(account, name);
        _setGln(account, gln);
    }

    /// @inheritdoc IConsortium
    function removeMember(address account) external onlyGovernance {
        _requireMember(account);
        delete _memberNames[account];
        delete _memberGlns[account];
        _revokeRole(BRAND_ROLE, account);
        _revokeRole(CERTIFIER_ROLE, account);
        _revokeRole(CARRIER_ROLE, account);
        _revokeRole(CUSTOMS_ROLE, account);
        _revokeRole(RETAILER_ROLE, account);
        emit MemberRemoved(account);
    }

    /// @inheritdoc IConsortium
    function setMemberGln(address account, string calldata gln) external onlyGovernance {
        _requireMember(account);
        _setGln(account, gln);
    }

    /// @inheritdoc IConsortium
    function isMember(address account) public view returns (bool) {
        return bytes(_memberNames[account]).length != 0;
    }

    /// @inheritdoc IConsortium
    function memberName(address account) external view returns (string memory) {
        return _memberNames[account];
    }

    /// @inheritdoc IConsortium
    function memberGln(address account) external view returns (string memory) {
        return _memberGlns[account];
    }

    // ----------------------------------------------------------------- roles

    /// @notice Grants `role` to `account`. Member roles need an admitted member.
    /// @dev Requirements: governance. Emits {RoleGranted} when the role is new.
    function grantRole(bytes32 role, address account) public override onlyGovernance {
        if (role != DEFAULT_ADMIN_ROLE) _requireMember(account);
        _grantRole(role, account);
    }

    /// @notice Revokes `role` from `account`.
    /// @dev Requirements: governance; an admin revocation keeps admins >= threshold. Emits {RoleRevoked}.
    function revokeRole(bytes32 role, address account) public override onlyGovernance {
        _revokeRole(role, account);
    }

    /// @notice Disabled: roles change only through governance.
    function renounceRole(bytes32, address) public pure override {
        revert ConsortiumRenounceDisabled();
    }

    /// @dev Counts admins as DEFAULT_ADMIN_ROLE is granted.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted && role == DEFAULT_ADMIN_ROLE) ++_adminCount;
    }

    /// @dev Counts admins as DEFAULT_ADMIN_ROLE is revoked, never below the threshold, and ends
    /// the former admin's pending handover (it must not come back with a later re-grant).
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && role == DEFAULT_ADMIN_ROLE) {
            if (--_adminCount < _threshold) revert ConsortiumInvalidThreshold(_threshold, _adminCount);
            address to = _handovers[account].to;
            if (to != address(0)) {
                delete _handovers[account];
                emit AdminHandoverCancelled(account, to);
            }
        }
    }

    // ----------------------------------------------------------------- governance

    /// @inheritdoc IConsortium
    function setThreshold(uint256 threshold_) external onlyGovernance {
        _setThreshold(threshold_);
    }

    /// @inheritdoc IConsortium
    function pause() external {
        if (msg.sender != address(this)) _checkRole(DEFAULT_ADMIN_ROLE);
        _pause();
    }

    /// @inheritdoc IConsortium
    function unpause() external onlyGovernance {
        _unpause();
    }

    /// @inheritdoc IConsortium
    function propose(bytes calldata data) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 proposalId) {
        bytes4 selector = data.length >= 4 ? bytes4(data[:4]) : bytes4(0);
        if (!_isGovernanceAction(selector)) revert ConsortiumUnsupportedAction(selector);
        proposalId = ++_proposalCount;
        Proposal storage proposal = _proposals[proposalId];
        proposal.data = data;
        // Days-long lifetime: a validator's seconds of timestamp drift cannot matter.
        // forge-lint: disable-next-line(block-timestamp)
        uint64 expiresAt = uint64(block.timestamp) + PROPOSAL_LIFETIME;
        proposal.expiresAt = expiresAt;
        emit ProposalCreated(proposalId, msg.sender, data, expiresAt);
        _approve(proposalId);
    }

    /// @inheritdoc IConsortium
    function approve(uint256 proposalId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (proposalId == 0 || proposalId > _proposalCount) revert ConsortiumUnknownProposal(proposalId);
        _approve(proposalId);
    }

    /// @inheritdoc IConsortium
    function threshold() external view returns (uint256) {
        return _threshold;
    }

    /// @inheritdoc IConsortium
    function adminCount() external view returns (uint256) {
        return _adminCount;
    }

    /// @inheritdoc IConsortium
    function proposalState(uint256 proposalId)
        external
        view
        returns (uint256 approvals, bool executed, uint64 expiresAt)
    {
        Proposal storage proposal = _proposals[proposalId];
        return (_liveApprovals(proposalId), proposal.executed, proposal.expiresAt);
    }

    // ----------------------------------------------------------------- admin handover

    /// @inheritdoc IConsortium
    function beginAdminHandover(address to) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (to == address(0) || hasRole(DEFAULT_ADMIN_ROLE, to)) revert ConsortiumInvalidAdmin(to);
        // Days-long delay: a validator's seconds of timestamp drift cannot matter.
        // forge-lint: disable-next-line(block-timestamp)
        uint64 readyAt = uint64(block.timestamp) + ADMIN_HANDOVER_DELAY;
        _handovers[msg.sender] = Handover({to: to, readyAt: readyAt});
        emit AdminHandoverStarted(msg.sender, to, readyAt);
    }

    /// @inheritdoc IConsortium
    function cancelAdminHandover() external {
        address to = _handovers[msg.sender].to;
        if (to == address(0)) revert ConsortiumNoHandover(msg.sender);
        delete _handovers[msg.sender];
        emit AdminHandoverCancelled(msg.sender, to);
    }

    /// @inheritdoc IConsortium
    function acceptAdminHandover(address from) external {
        Handover memory handover = _handovers[from];
        if (handover.to != msg.sender || !hasRole(DEFAULT_ADMIN_ROLE, from)) revert ConsortiumNoHandover(from);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < handover.readyAt) revert ConsortiumHandoverNotReady(from, handover.readyAt);
        delete _handovers[from];
        // Grant first so the admin count never dips below the threshold in between.
        if (!_grantRole(DEFAULT_ADMIN_ROLE, msg.sender)) revert ConsortiumInvalidAdmin(msg.sender);
        _revokeRole(DEFAULT_ADMIN_ROLE, from);
        emit AdminHandoverCompleted(from, msg.sender);
    }

    // ----------------------------------------------------------------- internals

    /// @dev Reverts unless `account` is a member.
    function _requireMember(address account) internal view {
        if (!isMember(account)) revert RegistryNotMember(account);
    }

    function _checkGovernance() private view {
        if (msg.sender == address(this)) return;
        _checkRole(DEFAULT_ADMIN_ROLE);
        if (_threshold != 1) revert ConsortiumApprovalRequired(_threshold);
    }

    function _admit(address account, string calldata name) private {
        if (account == address(0) || bytes(name).length == 0) revert RegistryInvalidMember(account);
        if (isMember(account)) revert RegistryAlreadyMember(account);
        _memberNames[account] = name;
        if (_memberIndex[account] == 0) {
            uint32 index = ++_memberCount;
            _memberIndex[account] = index;
            _memberByIndex[index] = account;
        }
        emit MemberAdmitted(account, name);
    }

    /// @dev A GLN is 13 digits whose last is the GS1 mod-10 check digit of the first 12
    /// (weights 1 and 3 alternating from the left), as the gateway and `origintrace` check it.
    function _setGln(address account, string calldata gln) private {
        bytes calldata digits = bytes(gln);
        if (digits.length != 0) {
            if (digits.length != 13) revert ConsortiumInvalidGln(gln);
            uint256 sum = 0;
            for (uint256 i = 0; i < 13; ++i) {
                if (digits[i] < "0" || digits[i] > "9") revert ConsortiumInvalidGln(gln);
                if (i < 12) sum += (uint8(digits[i]) - 48) * (i % 2 == 0 ? 1 : 3);
            }
            if ((10 - sum % 10) % 10 != uint8(digits[12]) - 48) revert ConsortiumInvalidGln(gln);
        }
        _memberGlns[account] = gln;
        emit MemberGlnSet(account, gln);
    }

    function _setThreshold(uint256 threshold_) private {
        if (threshold_ == 0 || threshold_ > _adminCount) revert ConsortiumInvalidThreshold(threshold_, _adminCount);
        emit ThresholdChanged(_threshold, threshold_);
        _threshold = threshold_;
    }

    function _approve(uint256 proposalId) private {
        Proposal storage proposal = _proposals[proposalId];
        if (proposal.executed) revert ConsortiumProposalExecuted(proposalId);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > proposal.expiresAt) revert ConsortiumProposalExpired(proposalId, proposal.expiresAt);
        if (_approved[proposalId][msg.sender]) revert ConsortiumAlreadyApproved(proposalId, msg.sender);
        _approved[proposalId][msg.sender] = true;
        proposal.approvers.push(msg.sender);
        uint256 approvals = _liveApprovals(proposalId);
        emit ProposalApproved(proposalId, msg.sender, approvals);
        if (approvals < _threshold) return;
        proposal.executed = true;
        emit ProposalExecuted(proposalId);
        // A call to this contract's own governance functions, chosen from a fixed list in {propose}.
        // slither-disable-next-line low-level-calls
        (bool ok, bytes memory reason) = address(this).call(proposal.data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(reason, 0x20), mload(reason))
            }
        }
    }

    /// @dev Approvals of `proposalId` by accounts that are admins now: a removed admin's approval lapses.
    function _liveApprovals(uint256 proposalId) private view returns (uint256 approvals) {
        address[] storage approvers = _proposals[proposalId].approvers;
        for (uint256 i = 0; i < approvers.length; ++i) {
            if (hasRole(DEFAULT_ADMIN_ROLE, approvers[i])) ++approvals;
        }
    }

    function _isGovernanceAction(bytes4 selector) private pure returns (bool) {
        return selector == bytes4(keccak256("admitMember(address,string)"))
            || selector == bytes4(keccak256("admitMember(address,string,string)"))
            || selector == this.removeMember.selector || selector == this.setMemberGln.selector
            || selector == this.grantRole.selector || selector == this.revokeRole.selector
            || selector == this.setThreshold.selector || selector == this.pause.selector
            || selector == this.unpause.selector;
    }
}
