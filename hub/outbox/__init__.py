"""Durable deliveries: every write the hub originates is recorded before it is attempted."""
