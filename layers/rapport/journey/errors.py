"""Errors a step raises on purpose. The class name is what the state machine's Retry/Catch match."""


class NoAddressError(Exception):
    """The debtor has no address on the chosen channel."""


class SendInProgressError(Exception):
    """Another invocation of the same send step has claimed the message and may be sending it now: the
    state machine retries later, when the message is sent (a duplicate) or the claim has gone stale."""
