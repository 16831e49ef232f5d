"""The questions the history pages take: an instant or a date, and the window of a report."""
from __future__ import annotations

from datetime import UTC, date, datetime

from django import forms
from django.utils import timezone

from portal.core.filters import MAX_UTC_OFFSET
from portal.core.limits import excerpt
from topics.history.answer import Window

MAX_REPORT_DAYS = 366


def parse_moment(raw: str) -> Window:
    """`YYYY-MM-DD` (that UTC day) or an ISO 8601 date-time (that instant; without an offset: UTC)."""
    raw = raw.strip()
    try:
        if len(raw) == 10:
            return Window.day(date.fromisoformat(raw))
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise forms.ValidationError(f"Expected a date (2026-03-01) or an ISO 8601 date-time "
                                    f"(2026-03-01T12:00:00Z), got {excerpt(raw)!r}.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif abs(moment.utcoffset()) > MAX_UTC_OFFSET:
        raise forms.ValidationError(f"The UTC offset of {excerpt(raw)!r} is out of range: at most ±15:59.")
    return Window.instant(moment)


class MomentField(forms.CharField):
    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=40, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return parse_moment(value) if value else None


class PointInTimeForm(forms.Form):
    at = MomentField(required=False, label="On date or at instant",
                     help_text="A date (that whole UTC day) or a date-time; empty: now.",
                     widget=forms.TextInput(attrs={"placeholder": "2026-03-01 or 2026-03-01T12:00:00Z"}))

    def window(self) -> Window:
        """The window asked (now when none); call after is_valid()."""
        return self.cleaned_data.get("at") or Window.instant(timezone.now())


class DaysForm(forms.Form):
    """The N of a report ("within N days", "idle for N days", "the last N days")."""

    days = forms.IntegerField(required=False, min_value=1, max_value=MAX_REPORT_DAYS, label="Days")

    def __init__(self, data=None, *, default: int, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.default = default
        self.fields["days"].widget.attrs["placeholder"] = str(default)

    def asked(self) -> int:
        """The days asked, or the default when none (or none valid) was given."""
        if not self.is_valid():
            return self.default
        return self.cleaned_data.get("days") or self.default
