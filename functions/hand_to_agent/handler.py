"""Journey task: put the account on the agents' worklist with the reason."""

from rapport.entry import journey_task
from rapport.journey.steps import HandToAgentInput, hand_to_agent

handler = journey_task(hand_to_agent, HandToAgentInput)
