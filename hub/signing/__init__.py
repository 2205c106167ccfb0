"""What makes the hub's word checkable afterwards: Ed25519 signing keys (``keys``), detached JWS
over RFC 8785 canonical JSON (``jws``), the signer that holds the current key (``signer``), and
the hash-chained evidence ledger (``ledger``).

Kept free of imports here: the store port imports ``hub.signing.keys`` and ``hub.signing.ledger``,
and the signer imports the store port.
"""
