// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ItemIds
/// @notice The one rule that turns a GS1 key into an on-chain `bytes32` id.
/// @dev id = keccak256(GS1 element string without parentheses or FNC1), i.e. the UTF-8
/// bytes of the AI, its value, then the next AI and value:
///   serialised item:  keccak256("01" ++ gtin14 ++ "21" ++ serial)
///   lot (batch):      keccak256("01" ++ gtin14 ++ "10" ++ lot)
///   logistic unit:    keccak256("00" ++ sscc18)
/// The GTIN is always the 14-digit form (GTIN-8/12/13 left-padded with zeros). Because
/// AI 01 has a fixed length and the serial is last, the encoding is unambiguous.
/// Test vectors: tests/vectors/item_ids.json (checked by forge and pytest).
library ItemIds {
    /// @notice Id of the serialised item GTIN `gtin14` + serial `serial`.
    function serialised(string memory gtin14, string memory serial) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("01", gtin14, "21", serial));
    }

    /// @notice Id of the lot `lot` of GTIN `gtin14`.
    function lot(string memory gtin14, string memory lotNumber) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("01", gtin14, "10", lotNumber));
    }

    /// @notice Id of the logistic unit with 18-digit SSCC `sscc18`.
    function logisticUnit(string memory sscc18) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("00", sscc18));
    }
}
