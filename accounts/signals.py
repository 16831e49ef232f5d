"""Signals accounts sends to the apps built on it: they react without accounts importing them."""
from django.dispatch import Signal

#: Sent inside the transaction that enables or disables a service account, with `account` and `active`.
#: topics ends (or restores) the effect of the account's grants on the broker.
service_account_active_changed = Signal()
