"""Routing between parties: pure decisions (``table``, ``identity``, ``bodies``) and one forwarder."""
