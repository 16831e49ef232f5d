"""The per-node canary of a shipper fleet: what it writes on each node, and what Logwarden reads of it."""
