"""Forms of the catalogue pages. They collect and pre-check input; topics.catalogue.services validates the
result, saves and audits it, and its ValidationErrors go back on the same form (portal.web.pages.show_errors)."""
from __future__ import annotations

from django import forms

from topics.catalogue.services import NAMESPACE_FIELDS, NoRetentionClass, default_retention_class
from topics.catalogue.tables import retention_label
from topics.catalogue.models import PASSWORD_REF_AGAIN
from topics.models import KafkaCluster, Namespace, RetentionClass


class RetentionClassField(forms.ModelChoiceField):
    def label_from_instance(self, obj: RetentionClass) -> str:
        return retention_label(obj)


class OwnerTeamField(forms.ModelChoiceField):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, empty_label="— no owner yet —", **kwargs)


class NamespaceForm(forms.ModelForm):
    """Registers a namespace by hand. Never saved by itself: the view passes cleaned_data to the service."""

    class Meta:
        model = Namespace
        fields = ("name", *NAMESPACE_FIELDS)
        field_classes = {"owner_team": OwnerTeamField, "retention_class": RetentionClassField}
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"name": "The Kubernetes namespace, e.g. payments."}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, auto_id="id_register_%s", **kwargs)  # unique beside the filter form
        try:
            self.fields["retention_class"].initial = default_retention_class()
        except NoRetentionClass:
            pass  # the admin picks one; the field says so if they do not


class NamespaceEditForm(forms.Form):
    """The changeable fields of a namespace; a plain form so the instance is untouched until the service
    applies (and audits) the change."""

    def __init__(self, *args, namespace: Namespace, **kwargs) -> None:
        kwargs.setdefault("initial", forms.model_to_dict(namespace, fields=NAMESPACE_FIELDS))
        super().__init__(*args, **kwargs)
        self.fields.update(forms.fields_for_model(Namespace, fields=NAMESPACE_FIELDS,
                                                  field_classes=NamespaceForm.Meta.field_classes,
                                                  widgets=NamespaceForm.Meta.widgets))


class KafkaClusterForm(forms.ModelForm):
    """A cluster in the admin site. Its form always sends the stored password reference back, so moving the
    bootstrap asks for the reference once more in a field of its own (the API's rule: name it in the change)."""

    sasl_password_ref_again = forms.CharField(
        required=False, label="Password reference, again",
        help_text="Needed when bootstrap changes: the cluster's password is sent to the new address.")

    class Meta:
        model = KafkaCluster
        fields = "__all__"

    def clean(self) -> dict:
        cleaned = super().clean()
        # before _post_clean, self.instance still holds the stored values
        if (self.instance.moving_needs_password_ref(cleaned.get("bootstrap", self.instance.bootstrap))
                and cleaned.get("sasl_password_ref_again") != cleaned.get("sasl_password_ref")):
            self.add_error("sasl_password_ref_again", PASSWORD_REF_AGAIN)
        return cleaned
