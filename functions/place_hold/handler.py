"""Journey task: place a hold (hardship, dispute, vulnerability) and stop collecting."""

from rapport.entry import journey_task
from rapport.journey.steps import PlaceHoldInput, place_hold

handler = journey_task(place_hold, PlaceHoldInput)
