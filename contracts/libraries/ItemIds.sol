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
/// The registry derives the ids of the records any member may create (units, sub-lots) here,
/// from checked keys: a unit or sub-lot cannot take the id of an item, and a sub-lot only a
/// number under its parent's, so neither can block a brand's batch.
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

    /// @notice Whether `key` is a GS1 key of `length` digits (a GTIN-14 has 14, an SSCC 18)
    /// whose last digit is the check digit of the others.
    /// @dev Check digit: from the right, the digits before it weigh 3, 1, 3, ...; the check
    /// digit brings the weighted sum up to a multiple of 10.
    function isKey(string memory key, uint256 length) internal pure returns (bool) {
        bytes memory digits = bytes(key);
        if (digits.length != length) return false;
        uint256 sum = 0;
        for (uint256 i = 0; i < length; ++i) {
            uint8 c = uint8(digits[i]);
            if (c < 0x30 || c > 0x39) return false;
            // Position from the right: the check digit is 0 (weight 1), the one before it 1 (3).
            sum += (c - 0x30) * ((length - 1 - i) % 2 == 1 ? 3 : 1);
        }
        return sum % 10 == 0;
    }

    /// @dev Bit `c` is set for each byte `c` of GS1 CSET 82 (General Specifications, figure
    /// 7.11-1), the characters a lot number (AI 10) may hold: `!"%&'()*+,-./0-9:;<=>?A-Z_a-z`.
    uint128 private constant CSET82 = 0x7fffffe87fffffeffffffe600000000;

    /// @notice Whether `subLotNumber` can number a sub-lot of the lot `lotNumber`: it extends
    /// `lotNumber` by at least one byte of GS1 CSET 82, up to the 20 of a GS1 lot number (AI 10).
    /// A lot's holder can then only create numbers under the lot it holds, never the brand's
    /// next lot, and only numbers a label's Digital Link can carry.
    function isSubLotNumber(string memory lotNumber, string memory subLotNumber) internal pure returns (bool) {
        bytes memory parent = bytes(lotNumber);
        bytes memory sub = bytes(subLotNumber);
        if (sub.length <= parent.length || sub.length > 20) return false;
        for (uint256 i = 0; i < parent.length; ++i) {
            if (sub[i] != parent[i]) return false;
        }
        for (uint256 i = parent.length; i < sub.length; ++i) {
            if ((CSET82 >> uint8(sub[i])) & 1 == 0) return false;
        }
        return true;
    }
}
