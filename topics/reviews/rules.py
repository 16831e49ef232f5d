"""The pure rules of access reviews, apart from the database: who reviews a grant, which reminders are due, what
a shortened end may be. topics.policy and topics.reviews.services apply them to rows."""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta
from typing import TypeVar

Person = TypeVar("Person")


def reviewers(owners: Iterable[Person], fallback: Iterable[Person],
              excluded: Callable[[Person], bool]) -> tuple[list[Person], bool]:
    """Who reviews a grant, and whether they are the fallback reviewers: the namespace's owners who are not
    `excluded` (the holder, anyone who can act as the principal); when none is left, the fallback reviewers who
    are not excluded either (possibly nobody: the grant then gets the no-response action at the deadline)."""
    left = [person for person in owners if not excluded(person)]
    if left:
        return left, False
    return [person for person in fallback if not excluded(person)], True


def due_reminders(*, started_at: datetime, deadline: datetime, now: datetime, days_before: Iterable[int],
                  sent: Collection[int]) -> list[int]:
    """The reminders (by days before the deadline) due at `now` and not sent yet, most days first. A reminder's
    moment is `deadline - days`; it is due from then until the deadline. One whose moment came before the
    campaign started is never due: the reviewers were told at the start, with as much time left or less."""
    return [days for days in sorted(set(days_before), reverse=True)
            if days not in sent and started_at <= deadline - timedelta(days=days) <= now < deadline]


def why_not_shortened(*, valid_until: datetime, new_valid_until: datetime | None, now: datetime) -> str:
    """Why a grant's end cannot move to `new_valid_until` ('' when it can): a review only ever shortens, and
    to a moment still to come (to end access now, revoke)."""
    if new_valid_until is None:
        return "Give the new end of the access."
    if new_valid_until >= valid_until:
        return f"Earlier than the grant's current end ({valid_until:%Y-%m-%d %H:%M} UTC): a review only shortens."
    if new_valid_until <= now:
        return "A moment still to come: to end the access now, revoke it."
    return ""
