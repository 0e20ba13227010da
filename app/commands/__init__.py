"""Command groups of the `origintrace` CLI, one module per group."""
