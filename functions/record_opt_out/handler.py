"""Journey task: honour an opt-out on the channel (or all channels) and confirm it."""

from rapport.entry import journey_task
from rapport.journey.steps import OptOutInput, record_opt_out

handler = journey_task(record_opt_out, OptOutInput)
