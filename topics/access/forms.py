"""Forms of the access pages. They collect and pre-check input; topics.access.services checks the rules (who
for, which namespaces, how long) and its ValidationErrors go back on the same form (portal.web.pages.show_errors)."""
from __future__ import annotations

from django import forms

from portal.core.limits import MaxTextLength
from topics.models import KafkaPrincipal, Lifecycle, Namespace, Sensitivity, SensitivityPolicy
from topics.provisioning.principals import requestable_principal, requestable_principals


def sensitivity_policies() -> dict[str, SensitivityPolicy]:
    """Each sensitivity level's policy (approvals required, longest grant), in the levels' order."""
    return {level: SensitivityPolicy.for_level(level) for level in Sensitivity.values}


class NamespacesField(forms.ModelMultipleChoiceField):
    policies: dict[str, SensitivityPolicy] = {}

    def label_from_instance(self, obj: Namespace) -> str:
        longest = self.policies[obj.sensitivity].max_grant_days
        return f"{obj.name} — {obj.get_sensitivity_display().lower()}, up to {longest} days"


class AccessRequestForm(forms.Form):
    principal = forms.ChoiceField(label="For", help_text="Yourself, or a service account of one of your teams.")
    namespaces = NamespacesField(Namespace.objects.filter(lifecycle=Lifecycle.ACTIVE).order_by("name"),
                                 to_field_name="name",
                                 widget=forms.SelectMultiple(
                                     attrs={"size": 8, "data-searchable": "Search namespaces"}),
                                 help_text="Ctrl-click (⌘-click on a Mac) to choose several. The owners of each "
                                           "namespace decide on it separately.")
    reason = forms.CharField(validators=[MaxTextLength()],
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="What you need the logs for: the owners read this.")
    duration_days = forms.IntegerField(label="Duration in days", widget=forms.NumberInput(attrs={"min": 1}),
                                       help_text="At most the shortest maximum of the namespaces chosen.")

    def __init__(self, *args, requester, policies: dict[str, SensitivityPolicy], **kwargs) -> None:
        """The principals are offered by name (requestable_principals: reading them creates none); the one
        chosen is created, if it was not yet, when the form is submitted."""
        super().__init__(*args, **kwargs)
        self.requester = requester
        me, *accounts = requestable_principals(requester)  # myself first
        field = self.fields["principal"]
        field.choices = [(me.name, f"{me.name} (you)")] + [
            (account.name, f"{account.name} (service account)") for account in sorted(accounts, key=lambda p: p.name)]
        field.initial = me.name
        self.fields["namespaces"].policies = policies

    def clean_principal(self) -> KafkaPrincipal:
        return requestable_principal(self.requester, self.cleaned_data["principal"])


class DecisionForm(forms.Form):
    """One decision on one request item. The page has one form per item waiting (told apart by their ids);
    the decision is the button pressed, passed as it is to the service, which checks it."""

    comment = forms.CharField(validators=[MaxTextLength()],
                              widget=forms.Textarea(attrs={"rows": 2}), help_text="The requester sees it.")

    def __init__(self, *args, item_id: int, **kwargs) -> None:
        super().__init__(*args, auto_id=f"id_item{item_id}_%s", **kwargs)
        self.item_id = item_id

    @property
    def decision(self) -> str:
        return self.data.get("decision", "")


class EndGrantForm(forms.Form):
    """Why a grant ends: required to revoke, optional to release."""

    reason = forms.CharField(validators=[MaxTextLength()],
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="The holder sees it, and the audit trail keeps it.")

    def __init__(self, *args, reason_required: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required
