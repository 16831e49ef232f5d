"""Errors raised by the Kafka adapter: always with a message a person can act on."""


class KafkaAdapterError(RuntimeError):
    """The broker refused or did not answer; the message names the setting or the resource concerned."""


class KafkaUnavailable(KafkaAdapterError):
    """No broker answered at the configured bootstrap address, or authentication failed."""


class KafkaAuthorizationError(KafkaAdapterError):
    """The principal is not allowed to do what was asked (an ACL is missing)."""
