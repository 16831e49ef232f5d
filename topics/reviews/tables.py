"""Tables of the access-review pages: campaigns with their progress, and a campaign's items."""
from __future__ import annotations

from django.db.models import QuerySet

from portal.web.tables import Table
from topics.reviews.services import with_progress


class ReviewCampaignTable(Table):
    columns = ("Campaign", "Deadline", "State", "If not reviewed", "Progress")
    row_template = "topics/reviews/_campaign_row.html"
    empty_message = "No access reviews yet."

    def prepare(self, rows: QuerySet) -> QuerySet:
        return with_progress(rows.select_related("created_by"))


class ReviewItemTable(Table):
    columns = ("Namespace", "Principal", "Grant ends", "Reviewed by", "Decision", "Decided", "Comment")
    row_template = "topics/reviews/_item_row.html"
    empty_message = "No grants match."
    per_page = 50

    def prepare(self, rows: QuerySet) -> QuerySet:
        # by namespace, then principal: the order start_campaign made the items in
        return rows.select_related("grant__principal", "grant__topic__namespace", "grant__topic__cluster",
                                   "decided_by").order_by("pk")
