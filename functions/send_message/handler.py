"""Journey task: raise a payment link, render the template and send it, exactly once."""

from rapport.entry import journey_task
from rapport.journey.steps import SendInput, send_message

handler = journey_task(send_message, SendInput)
