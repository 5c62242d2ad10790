"""Errors a step raises on purpose. The class name is what the state machine's Retry/Catch match."""


class NoAddressError(Exception):
    """The debtor has no address on the chosen channel."""
