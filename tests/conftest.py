"""Suite-wide set-up. Sockets are blocked in every test (pytest-socket, see pyproject.toml)."""

import os

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
# Info records are what log assertions read: importing the main job (which keeps a local run's logs to
# warnings) must not lower the level for every logger created after it in the same test process.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")
os.environ.setdefault("AWS_DEFAULT_REGION", "af-south-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

# The X-Ray SDK opens a UDP socket (it never sends: tracing is disabled) when its global recorder is
# built. Build it now, at collection, before pytest-socket starts refusing sockets in each test.
import aws_xray_sdk.core  # noqa: F401
