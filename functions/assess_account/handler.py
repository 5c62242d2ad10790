"""Journey task: score and segment the account, choose channels, tone and timings."""

from rapport.entry import journey_task
from rapport.journey.steps import AssessInput, assess_account

handler = journey_task(assess_account, AssessInput)
