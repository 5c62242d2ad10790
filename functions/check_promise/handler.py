"""Journey task: judge a promise on its check date (kept, partly kept, broken)."""

from rapport.entry import journey_task
from rapport.journey.steps import CheckPromiseInput, check_promise

handler = journey_task(check_promise, CheckPromiseInput)
