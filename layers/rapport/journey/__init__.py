"""The journey's steps: the logic behind each Task of ``statemachines/journey.asl.json``.

Each step takes a pydantic input and the process's :class:`rapport.runtime.Services`, and returns a
JSON-ready dict that the state machine routes on. Nothing here knows about Lambda events.
"""
