"""The local cloud hides moto's ERROR line for a Choice's IsPresent miss, and nothing else."""

from __future__ import annotations

import logging

from rapport_local.cloud import _ExpectedPathMiss


def _record(*args: object) -> logging.LogRecord:
    return logging.LogRecord("moto", logging.ERROR, __file__, 1, "%s at '%s'", args, None)


def test_a_missing_path_line_is_dropped_and_other_errors_are_kept():
    quiet = _ExpectedPathMiss()
    assert not quiet.filter(_record("Exception=NoSuchJsonPathError, Details=None-Available", "$.response"))
    assert quiet.filter(_record("Error=States.TaskFailed, Details={}", "SendMessage"))
    assert quiet.filter(logging.LogRecord("moto", logging.ERROR, __file__, 1, "plain message", None, None))
