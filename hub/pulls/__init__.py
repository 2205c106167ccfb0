"""Pulls: the hub GETs parties' Sender interfaces (Locations, Tariffs, Tokens, Sessions, CDRs), page by
page, into the mirror, and fans out what changed as a push would. One durable checkpoint per platform
and module says where the next pull starts and how far a pull under way has come.

Kept free of imports here: the store port imports ``hub.pulls.records``, and the puller imports the
store.
"""
