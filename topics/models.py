"""Models of the topics app: the catalogue, access (requests, approvals, grants) and provisioning state."""
from topics.access.models import (AccessRequest, Approval, Decision, Grant, GrantSource, GrantState, ReadFrom,
                                  RequestItem, RequestState, SensitivityPolicy)
from topics.breakglass.models import BreakGlassUse, Verdict
from topics.catalogue.models import (KafkaCluster, Lifecycle, Namespace, RetentionClass, Sensitivity, Topic,
                                     TopicState, namespace_name_validator)
from topics.history.models import ConsumerGroupOffsets, LastRead, ReadChannel
from topics.provisioning.models import (BrokerChange, CredentialHandoff, CredentialState, KafkaCredential,
                                        KafkaPrincipal, OwnedAclBinding, OwnedScramUser, QueuedReconcile,
                                        ReconcileRetry, ReconcileRun, RunStatus, SystemCredentialSecret)
from topics.reviews.models import (CampaignState, NoResponseAction, ReviewCampaign, ReviewDecision, ReviewItem,
                                   ReviewReminder)

__all__ = [
    "AccessRequest", "Approval", "BreakGlassUse", "BrokerChange", "CampaignState", "ConsumerGroupOffsets",
    "CredentialHandoff", "CredentialState", "Decision", "Grant", "GrantSource", "GrantState", "KafkaCluster",
    "KafkaCredential", "KafkaPrincipal", "LastRead", "Lifecycle", "Namespace", "NoResponseAction", "OwnedAclBinding",
    "OwnedScramUser", "QueuedReconcile", "ReadChannel", "ReadFrom", "ReconcileRetry", "ReconcileRun", "RequestItem",
    "RequestState", "RetentionClass", "ReviewCampaign", "ReviewDecision", "ReviewItem", "ReviewReminder", "RunStatus",
    "Sensitivity", "SensitivityPolicy", "SystemCredentialSecret", "Topic", "TopicState", "Verdict",
    "namespace_name_validator",
]
