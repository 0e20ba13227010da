"""OriginTrace: provenance of physical goods on an Ethereum-compatible chain."""
