"""The layout's rules, checked on the source: imports point one way (portal ← accounts ← topics ← shipper),
no module is part of an import circle (imports inside functions count too: deferring one hides a circle, it
does not remove it), and only the adapters import the clients of Kafka, Kubernetes and LDAP.

Pure: reads the files, imports nothing of the project.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from tests.helpers import ROOT
APPS = ("portal", "accounts", "topics", "shipper")
LAYER = {app: rank for rank, app in enumerate(APPS)}
# The composition root wires the apps together, and the development harness provisions the broker it
# starts through the Kafka adapter: both may import any app.
COMPOSITION_ROOT = ("portal.settings", "portal.urls", "portal.api.urls", "portal.celery", "portal.devservices")
ADAPTERS = {
    "confluent_kafka": ("topics.kafka.adapter",),
    "kubernetes": ("shipper.kube.client",),
    "ldap": ("accounts.ldap", "portal.devservices.ldap"),
    "django_auth_ldap": ("accounts.ldap",),
    # object storage; pyarrow's Parquet and tables are plain data. The harness makes MinIO's test buckets (one
    # with object lock, which pyarrow cannot ask for).
    "pyarrow.fs": ("topics.archive.store", "portal.devservices.minio"),
    "boto3": ("topics.archive.store", "portal.devservices.minio"),
    "botocore": ("topics.archive.store", "portal.devservices.minio"),
    "duckdb": ("topics.query.services",),  # the one sandboxed connection that runs callers' SQL
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


SOURCES = _sources()


def _imports(module: str, path: Path) -> set[str]:
    """Every module `module` imports, anywhere in its body, as dotted names (`from a import b` names a.b
    when a.b is one of ours or an adapter-only client like pyarrow.fs, else a)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                names.add(candidate if candidate in SOURCES or candidate in ADAPTERS else base)
    return names


IMPORTS = {module: _imports(module, path) for module, path in SOURCES.items()}


def _is_within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def _project_graph() -> dict[str, set[str]]:
    graph = defaultdict(set)
    for module, imported in IMPORTS.items():
        graph[module] |= {name for name in imported if name in SOURCES and name != module}
    return graph


def test_the_walk_sees_the_project():
    """Guards the checks below against passing on nothing: the tree is found and its imports are read."""
    assert {"portal.settings", "accounts.policy", "topics.policy", "shipper.kube.client"} <= set(SOURCES)
    assert "accounts.models" in IMPORTS["topics.catalogue.models"]
    assert "topics.queue" in IMPORTS["topics.access.services"]


def test_imports_point_one_way():
    upward = sorted(
        f"{module} imports {name}"
        for module, imported in IMPORTS.items() if not _is_within(module, COMPOSITION_ROOT)
        for name in imported
        if name.split(".")[0] in LAYER and LAYER[name.split(".")[0]] > LAYER[module.split(".")[0]])
    assert upward == [], "a lower app imports a higher one (use a signal or a hook):\n" + "\n".join(upward)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_is_in_an_import_circle():
    assert _cycles(_project_graph()) == []


def _domain(module: str) -> str | None:
    """The domain package of a topics module (topics.access.api.views → topics.access); None for the app's
    shared modules (models, policy, tasks, apps, admin …)."""
    parts = module.split(".")
    if parts[0] != "topics" or len(parts) < 3 or f"topics.{parts[1]}" not in SOURCES:
        return None
    return f"topics.{parts[1]}"


# The domains of topics, lowest first: each may import those before it (and every domain's models).
# topics.audit follows topics.archive: its checkpoints are written to a store of the archive's adapter
TOPICS_DOMAINS = ("topics.kafka", "topics.catalogue", "topics.provisioning", "topics.access", "topics.archive",
                  "topics.audit", "topics.reviews", "topics.breakglass", "topics.history", "topics.logs",
                  "topics.query")


def _domain_graph() -> dict[str, set[str]]:
    graph = defaultdict(set)
    for module, imported in _project_graph().items():
        source = _domain(module)
        for name in imported:
            target = _domain(name)
            if source and target and source != target and not name.endswith(".models"):
                graph[source].add(target)
    return graph


def test_the_domains_of_topics_depend_one_way():
    """Models are the app's shared data layer (topics.models gathers every domain's), so reading another
    domain's models does not count; packages outside the order (management commands, template tags) only
    have to stay out of circles."""
    graph = _domain_graph()
    assert "topics.provisioning" in graph["topics.access"]  # the walk sees the domains
    upward = sorted(f"{source} imports {target}" for source, targets in graph.items() for target in targets
                    if source in TOPICS_DOMAINS and target in TOPICS_DOMAINS
                    and TOPICS_DOMAINS.index(target) > TOPICS_DOMAINS.index(source))
    assert upward == []
    assert _cycles(graph) == []


@pytest.mark.parametrize("client", sorted(ADAPTERS))
def test_only_adapters_import_outside_clients(client):
    importers = sorted(module for module, imported in IMPORTS.items()
                       if any(name == client or name.startswith(client + ".") for name in imported)
                       and not _is_within(module, ADAPTERS[client]))
    assert importers == [], f"only {', '.join(ADAPTERS[client])} may import {client}"
