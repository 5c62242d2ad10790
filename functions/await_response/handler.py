"""Journey task (.waitForTaskToken): park the token until a reply or a payment resumes the journey."""

from rapport.entry import journey_task
from rapport.journey.steps import AwaitInput, await_response

handler = journey_task(await_response, AwaitInput)
