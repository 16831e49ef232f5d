"""The Kubernetes adapter: the only module that imports `kubernetes`.

The official client supplies what is hard to get right — kubeconfig parsing, authentication, TLS — and the
HTTP transport. Requests themselves are plain REST calls on paths found through API discovery, so one
`apply` serves every kind the server knows (namespaces, RBAC, ConfigMaps, Secrets, DaemonSets) without a
generated method per kind. Answers are dataclasses or plain dicts, never client model objects, and every
failure becomes a `KubeError` naming the kubeconfig, the server, the operation and the HTTP status.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException
from kubernetes.config import new_client_from_config

FIELD_MANAGER = "logwarden"
DEFAULT_TIMEOUT = 10.0
_LIST_CHUNK = 500


class KubeError(RuntimeError):
    """The cluster refused or did not answer. `status` is the HTTP status, None if there was no answer."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class KubeUnavailable(KubeError):
    """No usable answer: the kubeconfig cannot be loaded, the server cannot be reached or its TLS is not trusted."""


@dataclass(frozen=True)
class NamespaceInfo:
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    uid: str = ""
    phase: str = ""

    @classmethod
    def from_object(cls, obj: dict[str, Any]) -> NamespaceInfo:
        metadata = obj.get("metadata", {})
        return cls(name=metadata["name"], labels=metadata.get("labels") or {},
                   annotations=metadata.get("annotations") or {}, uid=metadata.get("uid", ""),
                   phase=obj.get("status", {}).get("phase", ""))


@dataclass(frozen=True)
class ConfigMapInfo:
    namespace: str
    name: str
    data: dict[str, str]
    labels: dict[str, str]
    resource_version: str

    @classmethod
    def from_object(cls, obj: dict[str, Any]) -> ConfigMapInfo:
        metadata = obj["metadata"]
        return cls(namespace=metadata["namespace"], name=metadata["name"], data=obj.get("data") or {},
                   labels=metadata.get("labels") or {}, resource_version=metadata["resourceVersion"])


@dataclass(frozen=True)
class _Resource:
    plural: str
    namespaced: bool


class KubeCluster:
    """One Kubernetes API server, reached with the credentials of one kubeconfig context."""

    def __init__(self, api: ApiClient, *, kubeconfig: str, timeout: float = DEFAULT_TIMEOUT):
        self._api = api
        self._api.user_agent = "logwarden"  # names us in the API server's audit log
        self.kubeconfig = kubeconfig
        self.server = api.configuration.host
        self.timeout = timeout
        self._discovered: dict[str, dict[str, _Resource]] = {}

    @classmethod
    def from_kubeconfig(cls, path: str | Path, *, context: str | None = None,
                        timeout: float = DEFAULT_TIMEOUT) -> KubeCluster:
        path = Path(path)
        if not path.is_file():
            raise KubeUnavailable(f"kubeconfig {path}: no such file")
        try:
            # persist_config=False: refreshed credentials must never be written back into the file
            api = new_client_from_config(config_file=str(path), context=context, persist_config=False)
        except Exception as exc:  # noqa: BLE001 - the loader fails in many ways on a malformed file
            raise KubeUnavailable(f"kubeconfig {path}: cannot be loaded: {exc}") from exc
        return cls(api, kubeconfig=str(path), timeout=timeout)

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> KubeCluster:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- cluster ------------------------------------------------------------------------------------
    def version(self) -> str:
        """The server's version, e.g. "v1.20.2"."""
        return self._request("GET", "/version", what="read the server version")["gitVersion"]

    def ping(self) -> bool:
        """True when the server is ready and accepts our credentials; raises KubeError otherwise."""
        self._send("GET", "/readyz", what="check readiness")
        return True

    # -- namespaces ---------------------------------------------------------------------------------
    def list_namespaces(self) -> list[NamespaceInfo]:
        return [NamespaceInfo.from_object(item) for item in self._list("/api/v1/namespaces", what="list namespaces")]

    def ensure_namespace(self, name: str, labels: dict[str, str] | None = None) -> NamespaceInfo:
        """Creates the namespace if missing; the labels given are applied as ours, other labels are kept."""
        metadata: dict[str, Any] = {"name": name}
        if labels:
            metadata["labels"] = labels
        return NamespaceInfo.from_object(self.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}))

    # -- any object ---------------------------------------------------------------------------------
    def apply(self, manifest: dict[str, Any], *, field_manager: str = FIELD_MANAGER, dry_run: bool = False,
              subresource: str | None = None) -> dict[str, Any]:
        """Server-side apply of one object; returns the object as stored (or, with `dry_run`, as the server
        would store it, writing nothing). `subresource` applies to one, such as a DaemonSet's "status".

        The manifest states every field we own: fields we applied before and leave out now are removed,
        fields other managers own are kept, and conflicts with them are resolved in our favour (force),
        because the portal's database is the desired state. Applying unchanged content writes nothing,
        so the resourceVersion stays the same.
        """
        api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
        metadata = manifest.get("metadata") or {}
        if not api_version or not kind or not metadata.get("name"):
            raise ValueError("a manifest needs apiVersion, kind and metadata.name; got "
                             f"apiVersion={api_version!r} kind={kind!r} name={metadata.get('name')!r}")
        path = self._object_path(api_version, kind, metadata["name"], metadata.get("namespace"))
        query = [("fieldManager", field_manager), ("force", "true")]
        if dry_run:
            query.append(("dryRun", "All"))
        what = f"{'dry-run ' if dry_run else ''}apply {_describe(kind, metadata['name'], metadata.get('namespace'))}"
        return self._request(
            "PATCH", f"{path}/{subresource}" if subresource else path,
            what=what + (f" {subresource}" if subresource else ""), query=query, body=manifest,
            content_type="application/apply-patch+yaml")

    def list_objects(self, api_version: str, kind: str, namespace: str | None = None, *,
                     label_selector: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every object of a kind (in one namespace, or cluster-wide), optionally only those with these labels."""
        resource = self._resource(api_version, kind)
        scope = f"/namespaces/{quote(namespace, safe='')}" if namespace and resource.namespaced else ""
        path = f"{_group_version_path(api_version)}{scope}/{resource.plural}"
        query = [("labelSelector", ",".join(f"{k}={v}" for k, v in sorted(label_selector.items())))] \
            if label_selector else []
        return self._list(path, what=f"list {kind} objects", query=query)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """The object as stored, or None if it does not exist."""
        return self._request("GET", self._object_path(api_version, kind, name, namespace),
                             what=f"read {_describe(kind, name, namespace)}", missing_ok=True)

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> bool:
        """Deletes the object; False if it did not exist."""
        return self._request("DELETE", self._object_path(api_version, kind, name, namespace),
                             what=f"delete {_describe(kind, name, namespace)}", missing_ok=True) is not None

    # -- config maps --------------------------------------------------------------------------------
    def apply_config_map(self, namespace: str, name: str, data: dict[str, str], *,
                         labels: dict[str, str] | None = None, field_manager: str = FIELD_MANAGER) -> str:
        """Applies the ConfigMap with exactly this data; returns its resourceVersion."""
        metadata: dict[str, Any] = {"name": name, "namespace": namespace}
        if labels:
            metadata["labels"] = labels
        stored = self.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data},
                            field_manager=field_manager)
        return stored["metadata"]["resourceVersion"]

    def get_config_map(self, namespace: str, name: str) -> ConfigMapInfo | None:
        obj = self.get("v1", "ConfigMap", name, namespace)
        return None if obj is None else ConfigMapInfo.from_object(obj)

    def delete_config_map(self, namespace: str, name: str) -> bool:
        return self.delete("v1", "ConfigMap", name, namespace)

    # -- plumbing -----------------------------------------------------------------------------------
    def _object_path(self, api_version: str, kind: str, name: str, namespace: str | None) -> str:
        resource = self._resource(api_version, kind)
        if resource.namespaced and not namespace:
            raise ValueError(f"{kind} {name!r} is namespaced: give its namespace")
        if not resource.namespaced and namespace:
            raise ValueError(f"{kind} {name!r} is cluster-scoped: it has no namespace (got {namespace!r})")
        scope = f"/namespaces/{quote(namespace, safe='')}" if resource.namespaced else ""
        return f"{_group_version_path(api_version)}{scope}/{resource.plural}/{quote(name, safe='')}"

    def _resource(self, api_version: str, kind: str) -> _Resource:
        """Finds the REST resource serving `kind` through discovery, once per apiVersion."""
        if api_version not in self._discovered:
            listing = self._request("GET", _group_version_path(api_version),
                                    what=f"discover the resources of {api_version}", missing_ok=True)
            if listing is None:
                raise KubeError(f"{self._where()}: the server does not serve apiVersion {api_version}", status=404)
            self._discovered[api_version] = {
                r["kind"]: _Resource(r["name"], r["namespaced"])
                for r in listing.get("resources", []) if "/" not in r["name"]  # skip subresources
            }
        try:
            return self._discovered[api_version][kind]
        except KeyError:
            raise KubeError(f"{self._where()}: apiVersion {api_version} has no kind {kind}", status=404) from None

    def _list(self, path: str, *, what: str, query: list[tuple[str, str]] | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        base = [*(query or []), ("limit", str(_LIST_CHUNK))]
        page_query = base
        while True:
            page = self._request("GET", path, what=what, query=page_query)
            items.extend(page.get("items") or [])
            token = page.get("metadata", {}).get("continue")
            if not token:
                return items
            page_query = [*base, ("continue", token)]

    def _request(self, method: str, path: str, *, what: str, missing_ok: bool = False, **kwargs: Any) -> Any:
        """One JSON request; None for a 404 when `missing_ok`."""
        raw = self._send(method, path, what=what, missing_ok=missing_ok, **kwargs)
        return None if raw is None else json.loads(raw)

    def _send(self, method: str, path: str, *, what: str, query: list[tuple[str, str]] | None = None,
              body: Any = None, content_type: str | None = None, missing_ok: bool = False) -> bytes | None:
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            request = self._api.param_serialize(method, path, query_params=query, header_params=headers,
                                                body=body, auth_settings=["BearerToken"])
            response = self._api.call_api(*request, _request_timeout=self.timeout)
            raw = response.read()
        except ApiException as exc:  # raised by the client itself, without an HTTP answer to report: a TLS
            # error outside urllib3's retries, or a Retry-After it stopped waiting for
            raise KubeUnavailable(f"{self._where()}: {what} failed: {_one_line(exc.reason)}",
                                  status=exc.status or None) from exc
        except urllib3.exceptions.HTTPError as exc:
            reason = getattr(exc, "reason", None) or exc
            problem = ("TLS handshake failed (is the kubeconfig's certificate-authority the server's CA?)"
                       if isinstance(reason, urllib3.exceptions.SSLError) else "cannot reach the API server")
            raise KubeUnavailable(f"{self._where()}: {what} failed: {problem}: {_one_line(reason)}") from exc
        if response.status == 404 and missing_ok:
            return None
        if not 200 <= response.status < 300:
            detail = _status_message(raw) or response.reason
            hint = " (the kubeconfig's credentials were rejected)" if response.status == 401 else ""
            raise KubeError(f"{self._where()}: {what} failed: HTTP {response.status}{hint}: {detail}",
                            status=response.status)
        return raw

    def _where(self) -> str:
        return f"Kubernetes API server {self.server} (kubeconfig {self.kubeconfig})"


def _group_version_path(api_version: str) -> str:
    """The core group lives under /api, every named group under /apis."""
    return "/api/v1" if api_version == "v1" else f"/apis/{api_version}"


def _describe(kind: str, name: str, namespace: str | None) -> str:
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _status_message(raw: bytes) -> str:
    """The message of the metav1.Status an API server answers errors with, else the body's start."""
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text).get("message") or text[:500]
    except (ValueError, AttributeError):
        return text[:500]


def _one_line(value: object) -> str:
    return " ".join(str(value).split())
