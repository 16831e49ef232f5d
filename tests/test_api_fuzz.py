"""Schemathesis over every operation of the API's own OpenAPI schema, through the WSGI application on the real
PostgreSQL: each generated request is sent as a service account (its API token), an engineer and a platform
admin (signed-in sessions with their CSRF token), and every answer must keep the contract the schema states —
no server error, a documented status code, a body of the documented shape, bad input refused, well-formed input
not refused for its form. A fixed seed and bounded examples keep the run repeatable and short.

The stateful phase chains operations through the links schemathesis infers from the schema (a create's answer
feeds the retrieve, update and actions of what it made: POST /api/clusters/ → GET/PUT/PATCH/DELETE
/api/clusters/{name}/, …), as each of the three identities, WORKFLOWS scenarios of up to WORKFLOW_STEPS calls each.

The requests run inside the test's transaction (so nothing survives a test), which is why the application is
called with Django's connection handling paused, as Django's own test client does.
"""
from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from hypothesis import HealthCheck, Phase, settings

from topics.catalogue.clusters import default_cluster
from topics.provisioning.principals import principal_for

IDENTITIES = ("service_account", "engineer", "admin")
EXAMPLES_PER_OPERATION = 20
SEED = 13
# the stateful phase: scenarios per identity and calls per scenario (about 20 s for the three on 2 cores, under 60 s)
WORKFLOWS = 25
WORKFLOW_STEPS = 6

handler = WSGIHandler()


def application(environ, start_response):
    """The portal's WSGI application, without closing the test's database connection around each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = handler(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# Rows the world fixture makes, by the names filters and bodies use: a name that matches no row is refused
# (400 naming it), which the schema cannot foresee, so well-formed examples draw names from these
NAMES = {"namespace": ["payments", "checkout"], "team": ["payments", "checkout"], "retention_class": ["standard"],
         "principal": ["u.alice", "sa.payments-etl"], "cluster": ["default"], "requester": ["alice", "dave"]}
ROW_NAMES = {"query.namespace": "namespace", "query.owner_team": "team", "query.team": "team",
             "query.retention_class": "retention_class", "query.principal": "principal", "query.cluster": "cluster",
             "query.requester": "requester", "query.kafka_cluster": "cluster"}
# Bodies whose acceptance depends on the caller and the stored rows as well as on their form: a principal the
# caller may act for, a name not taken yet, a duration within the namespace's policy, one default cluster. A
# well-formed body may be refused there with a 400 that names the field; every other check still applies.
DECIDED_BY_STATE = ["POST /api/access-requests/", "POST /api/grants/", "POST /api/credentials/rotate/",
                    "POST /api/service-accounts/", "POST /api/namespaces/", "PUT /api/namespaces/{name}/",
                    "PATCH /api/namespaces/{name}/", "POST /api/group-mappings/", "POST /api/teams/",
                    "POST /api/clusters/", "PUT /api/clusters/{name}/", "PATCH /api/clusters/{name}/",
                    "POST /api/retention-classes/", "POST /api/namespaces/{name}/confirm-owner/",
                    "POST /api/request-items/{id}/decide/",
                    "POST /api/service-accounts/{service_account_name}/tokens/", "POST /api/fleets/",
                    # a filter naming a fleet: the world has none, so every well-formed name names no row
                    "GET /api/fleet-revisions/",
                    # well-formed SQL may still not parse, or read a namespace the caller holds no grant on
                    "POST /api/query/", "POST /api/query/download/"]
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]

CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    # the server refuses NUL anywhere (a documented 400 from portal.core.middleware), which the schema cannot
    # say of every string; without this, most well-formed examples would be refused for it
    "generation": {"max-examples": EXAMPLES_PER_OPERATION, "allow-x00": False},
    "checks": {"enabled": True},
    "phases": {"coverage": {"enabled": False}},
    "dictionaries": {name: {"values": values} for name, values in NAMES.items()},
    "parameters": {parameter: {"dictionary": name} for parameter, name in ROW_NAMES.items()},
    "operations": [{"include-name": name,
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}}}
                   for name in DECIDED_BY_STATE],
})

# the schema endpoint documents the others; test_api_schema checks it
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG) \
    .exclude(path="/api/schema/")


def _headers(world, identity: str) -> dict[str, str]:
    if identity == "service_account":
        return {"Authorization": f"Bearer {world.token}"}
    client = Client()
    client.force_login(world.user_for(identity))
    request = RequestFactory().get("/")
    csrf_token = get_token(request)
    cookies = {django_settings.SESSION_COOKIE_NAME: client.cookies[django_settings.SESSION_COOKIE_NAME].value,
               django_settings.CSRF_COOKIE_NAME: request.META["CSRF_COOKIE"]}
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()), "X-CSRFToken": csrf_token}


@pytest.fixture
def identities(world) -> dict[str, dict[str, str]]:
    default_cluster()
    for user in (world.engineer, world.service_account.user):
        principal_for(user)
    return {identity: _headers(world, identity) for identity in IDENTITIES}


@schema.parametrize()
# one world per operation: its examples share the test's transaction, and three requests per example through
# the whole stack are slow by Hypothesis' measure
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_every_operation_keeps_its_contract_for_each_identity(case, identities):
    for headers in identities.values():
        cache.clear()  # the rate limits count per caller: the fuzzer's pace is not what they guard against
        case.call_and_validate(headers=headers)


class Workflows(schema.as_state_machine()):
    """Scenarios of linked calls as one identity (set on the class before a run)."""

    headers: dict[str, str] = {}

    def setup(self) -> None:
        # each scenario starts from the world: Hypothesis replays scenarios, and rows an earlier one made would
        # change the answers (and so what it draws next)
        self.savepoint = transaction.savepoint()

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)

    def before_call(self, case) -> None:
        cache.clear()  # as above: the rate limits are not what this tests
        # only the identity's credentials: this phase also generates an Authorization header (the schema's
        # bearer scheme), which beside a signed-in session the checks would take for auth the server ignored
        if case.headers:
            case.headers.pop("Authorization", None)

    def get_call_kwargs(self, case) -> dict:
        # the session as cookies too: this phase's client keeps a cookie jar, which would otherwise send a session
        # cookie generated for the schema's cookieAuth instead of the identity's
        cookies = SimpleCookie(self.headers.get("Cookie", ""))
        return {"headers": self.headers, "cookies": {name: morsel.value for name, morsel in cookies.items()}}

    def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
        # with the headers sent, so the checks know the credentials are the caller's own (as call_and_validate)
        case.validate_response(response, additional_checks=additional_checks, headers=self.headers,
                               transport_kwargs=kwargs)


@pytest.mark.parametrize("identity", IDENTITIES)
def test_chained_operations_keep_their_contract(identities, identity):
    Workflows.headers = identities[identity]
    assert Workflows.schema.statistic.transitions.total >= 100  # links were inferred: the phase has work to do
    Workflows.run(settings=settings(
        max_examples=WORKFLOWS, stateful_step_count=WORKFLOW_STEPS, deadline=None, derandomize=True,
        database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck)))
