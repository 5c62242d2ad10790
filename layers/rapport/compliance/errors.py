"""Typed errors of the compliance package. Names end in ``Error`` so a state machine can match them."""


class ComplianceError(Exception):
    """Base of every error raised by ``rapport.compliance``."""


class LooserThanLawError(ComplianceError, ValueError):
    """A client override would allow more contact than the jurisdiction's rules permit."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("client override is looser than the law: " + "; ".join(problems))


class NaiveDatetimeError(ComplianceError, ValueError):
    """A moment without a time zone reached a rule: every instant must be timezone-aware."""


class UnknownTimeZoneError(ComplianceError, ValueError):
    """The debtor's time zone is not an IANA key this runtime knows."""


class NoContactWindowError(ComplianceError):
    """No moment inside the contact window exists within the search horizon (every day is closed)."""
