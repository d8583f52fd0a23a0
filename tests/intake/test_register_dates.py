"""The register's dates (article 19), as pure functions of the recognition date and today:
three years' validity (29 February → 28 February), the year it ends (may re-apply), and
each annual summary due by 31 January of the next year, overdue the day after."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from intake.register import (
    PlatformStatus,
    SummaryState,
    beijing_date,
    expiry,
    platform_status,
    summary_due,
    summary_state,
    summary_years,
)

D = date


@pytest.mark.parametrize(
    ("recognised", "expires"),
    [
        (D(2023, 6, 15), D(2026, 6, 15)),
        (D(2024, 2, 29), D(2027, 2, 28)),  # a leap day: the end of February three years on
        (D(2025, 2, 28), D(2028, 2, 28)),  # into a leap year: still the 28th
        (D(2021, 3, 1), D(2024, 3, 1)),
        (D(2023, 12, 31), D(2026, 12, 31)),
        (D(2026, 1, 1), D(2029, 1, 1)),
    ],
)
def test_recognition_lasts_three_years(recognised, expires):
    assert expiry(recognised) == expires


# recognised on, revoked on, today → status
STATUS_CASES = [
    (D(2024, 5, 10), None, D(2025, 12, 31), PlatformStatus.VALID),
    (D(2024, 5, 10), None, D(2026, 12, 31), PlatformStatus.VALID),  # ends in 2027
    (D(2024, 5, 10), None, D(2027, 1, 1), PlatformStatus.EXPIRING),  # the year it ends
    (D(2024, 5, 10), None, D(2027, 5, 9), PlatformStatus.EXPIRING),
    (D(2024, 5, 10), None, D(2027, 5, 10), PlatformStatus.EXPIRED),  # on its expiry date
    (D(2024, 5, 10), None, D(2028, 1, 31), PlatformStatus.EXPIRED),
    (D(2024, 2, 29), None, D(2027, 2, 27), PlatformStatus.EXPIRING),
    (D(2024, 2, 29), None, D(2027, 2, 28), PlatformStatus.EXPIRED),
    (D(2024, 5, 10), D(2025, 3, 1), D(2025, 2, 28), PlatformStatus.VALID),  # not yet revoked
    (D(2024, 5, 10), D(2025, 3, 1), D(2025, 3, 1), PlatformStatus.REVOKED),
    (D(2024, 5, 10), D(2027, 3, 1), D(2027, 6, 1), PlatformStatus.REVOKED),  # over expired
]


@pytest.mark.parametrize(("recognised", "revoked", "today", "status"), STATUS_CASES)
def test_status(recognised, revoked, today, status):
    assert platform_status(recognised, expiry(recognised), revoked, today) == status


@pytest.mark.parametrize(
    ("recognised", "revoked", "years"),
    [
        (D(2024, 5, 10), None, [2024, 2025, 2026]),  # expires 2027: owes 2024–2026
        (D(2024, 1, 1), None, [2024, 2025, 2026]),
        (D(2023, 12, 31), None, [2023, 2024, 2025]),  # a day of 2023 still owes 2023's
        (D(2024, 2, 29), None, [2024, 2025, 2026]),
        (D(2024, 5, 10), D(2026, 1, 31), [2024]),  # 2025's falls due the day it is revoked
        (D(2024, 5, 10), D(2026, 2, 1), [2024, 2025]),
        (D(2024, 5, 10), D(2024, 6, 1), []),
    ],
)
def test_the_summaries_owed(recognised, revoked, years):
    assert summary_years(recognised, expiry(recognised), revoked) == years


def test_the_due_date_is_the_end_of_january():
    assert summary_due(2024) == D(2025, 1, 31)
    assert summary_due(2027) == D(2028, 1, 31)


# year, uploaded, today → state
SUMMARY_CASES = [
    (2025, False, D(2025, 6, 1), SummaryState.NOT_DUE),
    (2025, False, D(2025, 12, 31), SummaryState.NOT_DUE),
    (2025, False, D(2026, 1, 1), SummaryState.DUE),
    (2025, False, D(2026, 1, 31), SummaryState.DUE),  # the last day
    (2025, False, D(2026, 2, 1), SummaryState.OVERDUE),  # the day after
    (2027, False, D(2028, 1, 31), SummaryState.DUE),  # 2028 is a leap year: no matter
    (2027, False, D(2028, 2, 1), SummaryState.OVERDUE),
    (2027, False, D(2028, 2, 29), SummaryState.OVERDUE),
    (2025, True, D(2026, 1, 15), SummaryState.UPLOADED),
    (2025, True, D(2027, 6, 1), SummaryState.UPLOADED),  # late, but uploaded
    (2025, True, D(2025, 3, 1), SummaryState.UPLOADED),
]


@pytest.mark.parametrize(("year", "uploaded", "today", "state"), SUMMARY_CASES)
def test_summary_state(year, uploaded, today, state):
    assert summary_state(year, uploaded, today) == state


def test_the_deadline_is_kept_in_beijing_time():
    """15:59 UTC on 31 January is 23:59 in Beijing (still due); 16:00 UTC is 1 February."""
    due = beijing_date(datetime(2026, 1, 31, 15, 59, tzinfo=UTC))
    late = beijing_date(datetime(2026, 1, 31, 16, 0, tzinfo=UTC))
    assert (due, late) == (D(2026, 1, 31), D(2026, 2, 1))
    assert summary_state(2025, False, due) == SummaryState.DUE
    assert summary_state(2025, False, late) == SummaryState.OVERDUE
