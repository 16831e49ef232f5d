"""Models of the topics app: the catalogue, access (requests, approvals, grants) and provisioning state."""
from topics.models.access import (AccessRequest, Approval, Decision, Grant, GrantSource, GrantState, RequestItem,
                                  RequestState, SensitivityPolicy)
from topics.models.catalogue import (KafkaCluster, Lifecycle, Namespace, RetentionClass, Sensitivity, Topic,
                                     TopicState, namespace_name_validator)
from topics.models.provisioning import (CredentialHandoff, CredentialState, KafkaCredential, KafkaPrincipal,
                                        ReconcileRun)

__all__ = [
    "AccessRequest", "Approval", "CredentialHandoff", "CredentialState", "Decision", "Grant", "GrantSource",
    "GrantState", "KafkaCluster", "KafkaCredential", "KafkaPrincipal", "Lifecycle", "Namespace", "ReconcileRun",
    "RequestItem", "RequestState", "RetentionClass", "Sensitivity", "SensitivityPolicy", "Topic", "TopicState",
    "namespace_name_validator",
]
