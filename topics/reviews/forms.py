"""Forms of the access-review pages. They collect input; topics.reviews.services checks the rules and its
ValidationErrors go back on the same form (portal.web.pages.submit)."""
from __future__ import annotations

from django import forms

from accounts.models import Team
from portal.core.limits import MaxTextLength
from topics.models import Lifecycle, Namespace, NoResponseAction, Sensitivity
from topics.reviews.services import NAME_LENGTH


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=NAME_LENGTH, help_text="E.g. “Q4 review of restricted namespaces”.")
    description = forms.CharField(required=False, validators=[MaxTextLength()],
                                  widget=forms.Textarea(attrs={"rows": 2}), help_text="The reviewers read it.")
    deadline = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                   help_text="UTC. Reminders go out 7 days and 1 day before.")
    namespaces = forms.ModelMultipleChoiceField(
        Namespace.objects.exclude(lifecycle=Lifecycle.RETIRED).order_by("name"), to_field_name="name",
        required=False, widget=forms.SelectMultiple(attrs={"size": 6, "data-searchable": "Search namespaces"}),
        help_text="None chosen: every namespace (narrowed by the criteria below).")
    sensitivities = forms.MultipleChoiceField(choices=Sensitivity.choices, required=False,
                                              widget=forms.CheckboxSelectMultiple,
                                              help_text="None chosen: every level.")
    teams = forms.ModelMultipleChoiceField(Team.objects.order_by("slug"), to_field_name="slug", required=False,
                                           help_text="Owning teams. None chosen: every team.")
    no_response_action = forms.ChoiceField(choices=NoResponseAction.choices, initial=NoResponseAction.REVOKE,
                                           label="Not reviewed by the deadline")


class ReviewDecisionForm(forms.Form):
    """One decision on one item. The queue has one form per item (told apart by their ids); the decision is the
    button pressed, passed as it is to the service, which checks it."""

    comment = forms.CharField(validators=[MaxTextLength()], widget=forms.Textarea(attrs={"rows": 2}),
                              help_text="Kept in the campaign report and the audit trail.")
    valid_until = forms.DateTimeField(required=False, label="New end (to shorten)",
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                      help_text="UTC; earlier than the grant's end.")

    def __init__(self, *args, item_id: int, **kwargs) -> None:
        super().__init__(*args, auto_id=f"id_review{item_id}_%s", **kwargs)
        self.item_id = item_id

    @property
    def decision(self) -> str:
        return self.data.get("decision", "")
