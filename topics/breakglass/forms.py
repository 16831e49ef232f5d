"""Forms of the break-glass pages; topics.breakglass.services checks the rules."""
from __future__ import annotations

from django import forms
from django.conf import settings

from portal.core.limits import MaxTextLength
from topics.models import Lifecycle, Namespace, Verdict


class BreakGlassForm(forms.Form):
    namespace = forms.ModelChoiceField(Namespace.objects.filter(lifecycle=Lifecycle.ACTIVE).order_by("name"),
                                       to_field_name="name",
                                       widget=forms.Select(attrs={"data-searchable": "Search namespaces"}))
    reason = forms.CharField(validators=[MaxTextLength()], widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="The incident and why it cannot wait for an approval: the namespace's owners "
                                       "and the auditors read it.")
    hours = forms.IntegerField(min_value=1, widget=forms.NumberInput(attrs={"min": 1}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        longest = settings.LOGWARDEN_BREAK_GLASS_MAX_HOURS
        self.fields["hours"].max_value = longest
        self.fields["hours"].initial = longest
        self.fields["hours"].help_text = f"At most {longest}; the access then ends on its own."


class BreakGlassReviewForm(forms.Form):
    verdict = forms.ChoiceField(choices=Verdict.choices, widget=forms.RadioSelect)
    comment = forms.CharField(validators=[MaxTextLength()], widget=forms.Textarea(attrs={"rows": 2}),
                              help_text="What the review found (kept in the report and the audit trail).")
