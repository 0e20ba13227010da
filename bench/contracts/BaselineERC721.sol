// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title BaselineERC721
/// @notice The gas baseline of `make bench-gas`: provenance as one OpenZeppelin ERC-721 token per
/// item, minted by the brand one at a time and moved with `transferFrom`.
contract BaselineERC721 is ERC721, Ownable {
    constructor(address brand) ERC721("Baseline provenance token", "BASE") Ownable(brand) {}

    /// @notice Mints item `tokenId` to `to`. Requirements: caller is the owner (the brand).
    function mint(address to, uint256 tokenId) external onlyOwner {
        _mint(to, tokenId);
    }
}
