"""Errors a step raises on purpose. The class name is what the state machine's Retry/Catch match."""


class JourneyInputError(Exception):
    """The step was called with input it cannot act on."""


class NoAddressError(Exception):
    """The debtor has no address on the chosen channel."""
