"""What every page's navigation shows of access: how many decisions and reviews wait for the signed-in person, and
whether they may see the history pages."""
from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from topics import policy


def access(request) -> dict:
    """`approvals_waiting`, `reviews_waiting`, `history_visible`: computed once per request, and only when a page
    shows them."""
    user = request.user
    if not user.is_authenticated:
        return {"approvals_waiting": 0, "reviews_waiting": 0, "history_visible": False}
    return {"approvals_waiting": SimpleLazyObject(lambda: len(policy.waiting_for(user))),
            "reviews_waiting": SimpleLazyObject(lambda: len(policy.review_queue(user))),
            "history_visible": SimpleLazyObject(lambda: policy.may_see_history(user))}
