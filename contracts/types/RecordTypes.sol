// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice Lifecycle of a record (item, lot or logistic unit). `None` means "never registered".
/// @dev The state machine (every other transition reverts with `RegistryInvalidStatus`):
///
///   None     -> Active     registerItem / registerItems / anchorLot / splitLot / createUnit
///   Active   -> Offered    offerCustody                      (custodian)
///   Offered  -> Active     acceptCustody (receiver) / cancelOffer (custodian)
///   Active   -> Sold       markSold                          (retailer custodian; items)
///   Sold     -> Claimed    claim                             (anyone, with the claim code's signature)
///   Active   -> Lost       reportLost  (lost or stolen)      (custodian; items and lots)
///   Lost     -> Active     reportFound                       (custodian)
///   Active, Offered, Sold, Claimed, Lost -> Recalled  recall (the registering brand; items and lots)
///   Active, Lost, Recalled      -> Destroyed  destroy        (custodian; items and lots)
///
/// Destroyed is final; Claimed leads only to Recalled (a safety recall reaches goods already in
/// consumers' hands); Recalled leads only to Destroyed, so a recalled or destroyed record never
/// becomes Active again. Values 0-3 keep their original numbers.
enum Status {
    None,
    Active,
    Offered,
    Sold,
    Recalled,
    Claimed,
    Lost,
    Destroyed
}

/// @notice What a record stands for: a serialised item, a Merkle-anchored lot, or a logistic unit (SSCC).
enum Kind {
    Item,
    Lot,
    Unit
}
