"""Forms of the fleet pages. They collect input; shipper.fleet.services validates, saves, audits and revises,
and its ValidationErrors go back on the same form (portal.web.pages.show_errors)."""
from __future__ import annotations

from django import forms
from django.conf import settings

from shipper.fleet.models import Fleet
from shipper.fleet.services import CREATE_FIELDS, SETTINGS_FIELDS

WIDGETS = {"tolerations": forms.Textarea(attrs={"rows": 2}), "node_selector": forms.Textarea(attrs={"rows": 2})}


class FleetForm(forms.ModelForm):
    """A new fleet. Never saved by itself: the view passes cleaned_data to the service."""

    class Meta:
        model = Fleet
        fields = CREATE_FIELDS
        widgets = WIDGETS


class FleetSettingsForm(forms.Form):
    """The changeable settings and why they change; a plain form so the fleet stays untouched until the service
    applies (and audits) the change."""

    def __init__(self, *args, fleet: Fleet, **kwargs) -> None:
        kwargs.setdefault("initial", forms.model_to_dict(fleet, fields=SETTINGS_FIELDS))
        super().__init__(*args, **kwargs)
        self.fields.update(forms.fields_for_model(Fleet, fields=SETTINGS_FIELDS, widgets=WIDGETS))
        self.fields["reason"] = forms.CharField(max_length=settings.LOGWARDEN_MAX_TEXT_LENGTH,
                                                help_text="Recorded with the revision this change makes")


class RollbackForm(forms.Form):
    reason = forms.CharField(max_length=settings.LOGWARDEN_MAX_TEXT_LENGTH)


class RotateCredentialForm(forms.Form):
    overlap_hours = forms.IntegerField(min_value=1, max_value=settings.LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS,
                                       initial=settings.LOGWARDEN_ROTATION_OVERLAP_HOURS,
                                       help_text="How long the current password keeps working while the pods roll")
