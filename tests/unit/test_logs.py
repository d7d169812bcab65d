"""Logs: one line per event, JSON on request, secrets never written."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logs import JsonFormatter, RedactSecrets, TextFormatter


def _logger(formatter: logging.Formatter, secrets: list[str]) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(RedactSecrets(secrets))
    logger = logging.getLogger(f"test.{id(stream)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()])
def test_secrets_are_redacted_in_messages_arguments_and_tracebacks(formatter: logging.Formatter) -> None:
    secret = "xoxb-1234567890-secret-token"
    logger, stream = _logger(formatter, [secret, "abc"])  # too short to redact safely: ignored
    logger.info("calling Slack with %s", secret)
    try:
        raise RuntimeError(f"auth failed for {secret}")
    except RuntimeError:
        logger.exception("boom")
    output = stream.getvalue()
    assert secret not in output
    assert output.count("***") >= 2
    assert len(output.strip().splitlines()) == 2  # one line per event, tracebacks included


def test_json_lines_carry_extra_fields() -> None:
    logger, stream = _logger(JsonFormatter(), [])
    logger.info("grant #%d activated", 12, extra={"event": "GrantActivated"})
    line = json.loads(stream.getvalue())
    assert line["message"] == "grant #12 activated"
    assert line["event"] == "GrantActivated" and line["level"] == "info" and "time" in line
