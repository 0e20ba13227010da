"""Lots at scale: streaming manifests, native Merkle trees, the compact lot store."""
