"""Logging for tasks: the run logger inside Prefect, a plain one outside, personal data masked."""

from __future__ import annotations

import logging

from prefect import get_run_logger
from prefect.exceptions import MissingContextError

from casework.masking import mask_text

MASKED_LOGGERS = ("prefect.flow_runs", "prefect.task_runs", "casework")


def task_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("casework")


class MaskPersonalData(logging.Filter):
    """A second line of defence: resident ID and mobile numbers in any log line are masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def install_log_masking() -> None:
    """Mask run and Casework log records before any handler (Prefect's API included) sees them."""
    for name in MASKED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskPersonalData) for f in logger.filters):
            logger.addFilter(MaskPersonalData())
