"""Journey task: propose an affordable payment plan aligned to pay day."""

from rapport.entry import journey_task
from rapport.journey.steps import OfferPlanInput, offer_plan

handler = journey_task(offer_plan, OfferPlanInput)
