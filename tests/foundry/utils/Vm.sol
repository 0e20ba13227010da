// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Vm
/// @notice The handful of Foundry cheatcodes these tests use.
/// @dev forge-std is not available here (the npm copy is broken), so this declares only what
/// we need. Every signature is copied from Foundry's own `Vm` interface: the cheatcode
/// dispatcher matches on the 4-byte selector, so names and parameter types must be exact.
interface Vm {
    /// @notice A log recorded by {recordLogs}.
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    // ------------------------------------------------------------ callers and time

    /// @notice Sets `msg.sender` for the next call only.
    function prank(address msgSender) external;

    /// @notice Sets `msg.sender` for all calls until {stopPrank}.
    function startPrank(address msgSender) external;

    /// @notice Ends a {startPrank}.
    function stopPrank() external;

    /// @notice Sets `block.timestamp`.
    function warp(uint256 newTimestamp) external;

    // ------------------------------------------------------------ expectations

    /// @notice The next call must revert with exactly `revertData` (selector and arguments).
    function expectRevert(bytes calldata revertData) external;

    /// @notice The next call must revert with an error whose selector is `revertData`.
    function expectRevert(bytes4 revertData) external;

    /// @notice The next call must emit the event emitted next by the test, from `emitter`,
    /// with every topic and the data equal.
    function expectEmit(address emitter) external;

    /// @notice Records every log emitted from now on, for {getRecordedLogs}.
    function recordLogs() external;

    /// @notice The logs recorded since {recordLogs} (or the last call of this), then forgets them.
    function getRecordedLogs() external returns (Log[] memory logs);

    /// @notice Skips a fuzz input that does not satisfy `condition`.
    function assume(bool condition) external pure;

    // ------------------------------------------------------------ files and JSON

    /// @notice Absolute path of the project root (where foundry.toml lives).
    function projectRoot() external view returns (string memory path);

    /// @notice Contents of the file at `path` (needs a matching `fs_permissions` entry).
    function readFile(string calldata path) external view returns (string memory data);

    /// @notice Whether the JSON path `key` exists in `json`.
    function keyExistsJson(string calldata json, string calldata key) external view returns (bool);

    /// @notice The string at JSON path `key`.
    function parseJsonString(string calldata json, string calldata key) external pure returns (string memory);

    /// @notice The bytes32 array at JSON path `key`.
    function parseJsonBytes32Array(string calldata json, string calldata key) external pure returns (bytes32[] memory);

    /// @notice The uint256 at JSON path `key`.
    function parseJsonUint(string calldata json, string calldata key) external pure returns (uint256);

    /// @notice The bytes32 (0x-prefixed hex string) at JSON path `key`.
    function parseJsonBytes32(string calldata json, string calldata key) external pure returns (bytes32);

    /// @notice Decimal string of `value`, for building JSON paths such as ".serialised[3]".
    function toString(uint256 value) external pure returns (string memory stringifiedValue);

    // ------------------------------------------------------------ accounts

    /// @notice Address of the private key `privateKey`: deterministic, distinct test accounts.
    function addr(uint256 privateKey) external pure returns (address keyAddr);

    /// @notice Signs `digest` with `privateKey` (secp256k1): the (v, r, s) of an Ethereum signature.
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);

    /// @notice Sets `block.chainid`.
    function chainId(uint256 newChainId) external;

    /// @notice Names `account` in traces, so failures read "carrier" rather than 0x1234...
    function label(address account, string calldata newLabel) external;
}
