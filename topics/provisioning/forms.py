"""The form of the credentials page: starting a rotation (the API's RotateSerializer, for the web)."""
from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings


class RotateForm(forms.Form):
    overlap_hours = forms.IntegerField(
        min_value=0, max_value=settings.LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS,
        initial=settings.LOGWARDEN_ROTATION_OVERLAP_HOURS, label="Overlap (hours)",
        help_text=f"How long the current password keeps working after the new one exists, 0 to "
                  f"{settings.LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS} (LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS).")
    force = forms.BooleanField(required=False, label="Forced rotation",
                               help_text="Platform admins: rotate someone else's credential, e.g. after a leak.")

    def __init__(self, *args, may_force: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not may_force:
            del self.fields["force"]

    @property
    def overlap(self) -> timedelta:
        return timedelta(hours=self.cleaned_data["overlap_hours"])
