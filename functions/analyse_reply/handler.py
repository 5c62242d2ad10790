"""Journey task: understand a reply (intent, sentiment, promise, vulnerability)."""

from rapport.entry import journey_task
from rapport.journey.steps import AnalyseInput, analyse_reply

handler = journey_task(analyse_reply, AnalyseInput)
