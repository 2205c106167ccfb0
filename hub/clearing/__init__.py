"""Clearing: how the hub checks a CDR and settles it between a CPO and an eMSP.

Pure code, no I/O: the callers (the CDR intake, the settlement jobs) look up tariffs, tokens and
locations in the mirror and pass them in.

    money         Decimal amounts, and the one place they are rounded (only to compare)
    periods       a CDR's charging periods in time order, each with its end and its volumes
    restrictions  whether a tariff element's restrictions hold when a period starts
    pricing       recompute_cost(): the cost of a CDR as its tariffs price its periods
    cost          the recomputation's result, per dimension, per period, per price component
    ocmf          verify the OCMF signatures in a CDR's signed_data (with pyocmf)
    checks        check_cdr(): a stored, human-readable Verdict on one CDR
    records       a CDR accepted for clearing, as received, with its verdict and delivery state
    settlement    statements: what the CDRs of a period add up to, per CPO-eMSP pair and currency
"""
