// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Vm} from "./Vm.sol";

/// @title TestBase
/// @notice Minimal stand-in for forge-std's `Test`: the cheatcode handle and equality checks.
/// @dev forge treats any revert in a `test*` function as a failure, so each assertion simply
/// reverts with a custom error carrying both values and a description; forge decodes it in
/// the failure output.
abstract contract TestBase {
    /// @dev Foundry's cheatcode contract lives at address(uint160(uint256(keccak256("hevm cheat code")))).
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    error AssertEqUint(string what, uint256 actual, uint256 expected);
    error AssertEqAddress(string what, address actual, address expected);
    error AssertEqBytes32(string what, bytes32 actual, bytes32 expected);
    error AssertEqBool(string what, bool actual, bool expected);
    error AssertEqString(string what, string actual, string expected);

    function assertEq(uint256 actual, uint256 expected, string memory what) internal pure {
        if (actual != expected) revert AssertEqUint(what, actual, expected);
    }

    function assertEq(address actual, address expected, string memory what) internal pure {
        if (actual != expected) revert AssertEqAddress(what, actual, expected);
    }

    function assertEq(bytes32 actual, bytes32 expected, string memory what) internal pure {
        if (actual != expected) revert AssertEqBytes32(what, actual, expected);
    }

    function assertEq(bool actual, bool expected, string memory what) internal pure {
        if (actual != expected) revert AssertEqBool(what, actual, expected);
    }

    function assertEq(string memory actual, string memory expected, string memory what) internal pure {
        if (keccak256(bytes(actual)) != keccak256(bytes(expected))) revert AssertEqString(what, actual, expected);
    }
}
