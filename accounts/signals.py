"""Signals accounts sends to the apps built on it: they react without accounts importing them."""
from django.dispatch import Signal

#: Sent inside the transaction that enables or disables a service account, with `account` and `active`.
#: topics ends (or restores) the effect of the account's grants on the broker.
service_account_active_changed = Signal()

#: Sent inside the transaction that disables a person (in the admin site, or because the directory no longer
#: lists them) or enables them again, with `user` and `active`. topics ends (or restores) the effect of their
#: grants on the broker.
person_active_changed = Signal()
