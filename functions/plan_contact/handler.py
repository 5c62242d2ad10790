"""Journey task: pick this attempt's channel and template and check the contact is allowed now."""

from rapport.entry import journey_task
from rapport.journey.steps import PlanContactInput, plan_contact

handler = journey_task(plan_contact, PlanContactInput)
