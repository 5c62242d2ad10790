"""Journey task: record how the journey ended."""

from rapport.entry import journey_task
from rapport.journey.steps import FinishInput, finish_journey

handler = journey_task(finish_journey, FinishInput)
