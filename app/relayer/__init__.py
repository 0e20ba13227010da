"""The relayer: submits members' EIP-712-signed handoffs and pays their gas."""
