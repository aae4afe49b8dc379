"""How long an agency usually takes to answer, learnt from its answers. Pure: no I/O.

Chasing adapts to it (casework/planning.reminder_interval): a reminder to an agency that always
answers within two working days goes out after two, not after the case type's five, and one
that takes nine is not nagged on day five. Too few answers say nothing about an agency."""

from __future__ import annotations

import statistics

# The answers an agency's usual time is learnt from: enough that one odd answer does not set
# it, recent enough that a desk that got faster (or slower) is seen within weeks.
FEWEST_ANSWERS = 3
LATEST_ANSWERS = 20


def usual_answer_days(waits: list[int]) -> int | None:
    """The working days an agency usually takes to answer, from its answers' waits (oldest
    first): the median of the latest ones, rounded up (an agency that answers in 2 or 3 days
    is given 3); None until it has answered FEWEST_ANSWERS times."""
    latest = waits[-LATEST_ANSWERS:]
    if len(latest) < FEWEST_ANSWERS:
        return None
    middle = statistics.median(latest)
    return max(1, int(middle) + (middle % 1 > 0))
