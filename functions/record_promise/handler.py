"""Journey task: record a promise to pay and work out when to check it."""

from rapport.entry import journey_task
from rapport.journey.steps import PromiseInput, record_promise

handler = journey_task(record_promise, PromiseInput)
