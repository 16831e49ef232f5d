"""The Kafka adapter: the only package that speaks to the broker (confluent-kafka)."""
