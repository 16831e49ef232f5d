"""The query page's form: the SQL, the namespaces (those the caller may read) and the days it reads."""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator

from topics import policy


class QueryForm(forms.Form):
    sql = forms.CharField(label="SQL", strip=False, widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false",
                                                                                "class": "sql"}),
                          help_text="One read-only statement over the view logs, e.g. "
                                    "SELECT pod_name, count(*) FROM logs GROUP BY ALL ORDER BY 2 DESC")
    namespaces = forms.MultipleChoiceField(required=False, help_text="None chosen: every namespace you may read.")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, actor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        limit = settings.LOGWARDEN_QUERY_MAX_SQL_LENGTH  # read per form, so a test's setting counts
        self.fields["sql"].validators.append(MaxLengthValidator(limit))
        self.fields["sql"].widget.attrs["maxlength"] = limit
        names = policy.readable_namespaces(actor).order_by("name").values_list("name", flat=True)
        self.fields["namespaces"].choices = [(name, name) for name in names]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            self.add_error("date_to", "Must not be before From.")
        return cleaned
