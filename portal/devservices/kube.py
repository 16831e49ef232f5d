"""A real Kubernetes control plane (v1.20, built from Debian's source package) on Debian's etcd, with nodes
simulated by kwok.

kube-apiserver serves the objects the portal applies and reads (namespaces, ConfigMaps, Secrets, DaemonSets);
kube-controller-manager runs the DaemonSet controller (which makes a fleet's pods and rolls them onto a new
template) and the node lifecycle controller (which marks the pods of a node that stops reporting not ready);
kube-scheduler binds the DaemonSet's pods to their nodes; kwok plays the kubelet of every node annotated
`kwok.x-k8s.io/node: fake` (SIMULATED_NODE_ANNOTATION): it reports the node ready, runs the pods bound to it
(phase Running, ready) and finishes their deletion. The harness creates no node: whoever needs pods creates
its nodes (shipper.demo.nodes), so each test's pods stay on its own nodes.
Each component signs in with a token of its own (system:masters: this is a disposable development cluster).
The cluster is disposable: every launch starts from an empty etcd, since the portal's database holds the
desired state and re-applies it.
"""
from __future__ import annotations

import json
import shutil
import ssl
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from .base import PROJECT_ROOT, Service, ServiceError, free_port, generate_password, run_build_script, run_checked

BUILD_SCRIPT = PROJECT_ROOT / "scripts" / "build-kube-apiserver.sh"
KWOK_BUILD_SCRIPT = PROJECT_ROOT / "scripts" / "build-kwok.sh"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc"
# kwok's own convention (kwokctl's clusters use it too): the nodes it plays the kubelet of
SIMULATED_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
# The controllers the fleet's pods need: the DaemonSet controller makes and rolls them, the node lifecycle
# controller marks the pods of a node that stops reporting not ready (and taints the node)
CONTROLLERS = "daemonset,nodelifecycle"
# A node that stops reporting is found within the grace period plus a monitor period. kwok renews its nodes'
# leases every quarter of their duration, so the grace period stays well above that.
NODE_LEASE_SECONDS = 20
NODE_MONITOR_GRACE_SECONDS = 16
NODE_MONITOR_PERIOD_SECONDS = 2
# Who each component signs in as (its token's user)
COMPONENT_USERS = {"kube-controller-manager": "system:kube-controller-manager",
                   "kube-scheduler": "system:kube-scheduler", "kwok": "kwok"}


class KubeService(Service):
    name = "kube"
    ready_timeout = 90.0

    def __init__(self, state_root: Path, *, persistent: bool = False):
        super().__init__(state_root, persistent=persistent)
        self.apiserver = self.controller_manager = self.scheduler = self.kwok = ""

    def install(self) -> None:
        """Runs the build scripts (no-ops once the binaries are cached), streaming their progress to stderr."""
        self.apiserver, self.controller_manager, self.scheduler = run_build_script(self.name, BUILD_SCRIPT).split()
        self.kwok = run_build_script(self.name, KWOK_BUILD_SCRIPT)
        if shutil.which("etcd") is None:
            raise ServiceError("kube: no etcd on PATH; install Debian's etcd-server package")

    def launch(self) -> dict[str, str]:
        etcd_data = self.dir / "etcd-data"
        shutil.rmtree(etcd_data, ignore_errors=True)
        etcd_port, peer_port = free_port(), free_port()
        etcd_url = f"http://127.0.0.1:{etcd_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        self.spawn("etcd", [
            "etcd", "--name", "logwarden", "--data-dir", str(etcd_data),
            "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", f"logwarden={peer_url}", "--initial-cluster-state", "new",
            "--logger", "zap",
        ])
        self.wait_until(lambda: _etcd_healthy(etcd_url), "etcd to report healthy", timeout=30)

        pki = self.dir / "pki"
        shutil.rmtree(pki, ignore_errors=True)
        pki.mkdir(mode=0o700)
        sa_key, sa_pub = pki / "sa.key", pki / "sa.pub"
        run_checked(["openssl", "genrsa", "-out", str(sa_key), "2048"], "generating the service-account key")
        run_checked(["openssl", "rsa", "-in", str(sa_key), "-pubout", "-out", str(sa_pub)],
                    "deriving the service-account public key")
        tokens = {user: generate_password() for user in ("admin", *COMPONENT_USERS.values())}
        token_file = pki / "tokens.csv"
        token_file.write_text("".join(f'{token},{user},{user},"system:masters"\n' for user, token in tokens.items()))
        token_file.chmod(0o600)

        # The API server writes a self-signed serving certificate (apiserver.crt: the certificate, then
        # the CA that signed it) into cert-dir; clients trust that file.
        cert_dir = self.dir / "certs"
        shutil.rmtree(cert_dir, ignore_errors=True)
        cert_dir.mkdir(mode=0o700)
        port = free_port()
        self.spawn("kube-apiserver", [
            self.apiserver,
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={port}",
            f"--cert-dir={cert_dir}",
            f"--token-auth-file={token_file}",
            "--authorization-mode=RBAC",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-key-file={sa_pub}",
            f"--service-account-signing-key-file={sa_key}",
            "--service-cluster-ip-range=10.96.0.0/24",
            # Without a controller manager nobody creates the default ServiceAccount that this plug-in
            # requires of every pod.
            "--disable-admission-plugins=ServiceAccount",
            # The "kubernetes" Service's endpoints cannot point at a loopback address; nothing in this
            # cluster runs pods that would use them, so the reconciler would only log errors.
            "--endpoint-reconciler-type=none",
            "--profiling=false",
        ])

        server, ca_file = f"https://127.0.0.1:{port}", cert_dir / "apiserver.crt"
        kubeconfigs = {user: self._write_kubeconfig(user, server, ca_file, token) for user, token in tokens.items()}
        env = {"LOGWARDEN_KUBECONFIG": str(kubeconfigs["admin"])}
        # the components wait for the API server only briefly at start-up
        self.wait_until(lambda: _api_server_ready(kubeconfigs["admin"]), "kube-apiserver to answer /readyz")
        self._launch_components(kubeconfigs, sa_key)
        return env

    def _write_kubeconfig(self, user: str, server: str, ca_file: Path, token: str) -> Path:
        path = self.dir / ("kubeconfig" if user == "admin" else f"{user.rsplit(':', 1)[-1]}.kubeconfig")
        path.write_text(json.dumps(_kubeconfig(server, ca_file, token), indent=2))
        path.chmod(0o600)
        return path

    def _launch_components(self, kubeconfigs: dict[str, Path], sa_key: Path) -> None:
        """kube-controller-manager, kube-scheduler and kwok, each with its kubeconfig; their health ports are
        recorded for is_ready."""
        ports = {name: free_port() for name in ("kube-controller-manager", "kube-scheduler", "kwok")}
        for name in ("kube-controller-manager", "kube-scheduler"):
            kubeconfig = kubeconfigs[COMPONENT_USERS[name]]
            serving = self.dir / f"{name}-certs"
            shutil.rmtree(serving, ignore_errors=True)
            serving.mkdir(mode=0o700)
            common = [f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
                      f"--authorization-kubeconfig={kubeconfig}", "--leader-elect=false",
                      "--bind-address=127.0.0.1", f"--secure-port={ports[name]}", "--port=0",
                      f"--cert-dir={serving}", "--profiling=false"]
            if name == "kube-controller-manager":
                self.spawn(name, [self.controller_manager, *common, f"--controllers={CONTROLLERS}",
                                  f"--service-account-private-key-file={sa_key}",
                                  "--use-service-account-credentials=false",
                                  f"--node-monitor-grace-period={NODE_MONITOR_GRACE_SECONDS}s",
                                  f"--node-monitor-period={NODE_MONITOR_PERIOD_SECONDS}s"])
            else:
                self.spawn(name, [self.scheduler, *common])
        annotation = "=".join(SIMULATED_NODE_ANNOTATION)
        self.spawn("kwok", [self.kwok, f"--kubeconfig={kubeconfigs[COMPONENT_USERS['kwok']]}",
                            "--manage-all-nodes=false", f"--manage-nodes-with-annotation-selector={annotation}",
                            f"--server-address=127.0.0.1:{ports['kwok']}", "--node-ip=127.0.0.1",
                            f"--node-lease-duration-seconds={NODE_LEASE_SECONDS}", "--cidr=10.244.0.0/16"],
                   env={"HOME": str(self.dir)})  # kwok reads (and may write) ~/.kwok
        (self.dir / "health-ports.json").write_text(json.dumps(ports))

    def is_ready(self, env: Mapping[str, str]) -> bool:
        """The API server answers /readyz with 200 to the kubeconfig's token over TLS checked against its CA, and
        the controller manager, the scheduler and kwok answer their health checks."""
        if not _api_server_ready(Path(env["LOGWARDEN_KUBECONFIG"])):
            return False
        ports = json.loads((self.dir / "health-ports.json").read_text())
        return all(_answers(f"https://127.0.0.1:{ports[name]}/healthz")
                   for name in ("kube-controller-manager", "kube-scheduler")) and \
            _answers(f"http://127.0.0.1:{ports['kwok']}/healthz")


def _api_server_ready(kubeconfig: Path) -> bool:
    config = json.loads(kubeconfig.read_text())
    cluster = config["clusters"][0]["cluster"]
    context = ssl.create_default_context(cafile=cluster["certificate-authority"])
    request = urllib.request.Request(
        f"{cluster['server']}/readyz",
        headers={"Authorization": f"Bearer {config['users'][0]['user']['token']}"})
    with urllib.request.urlopen(request, context=context, timeout=5) as response:
        return response.status == 200


def _answers(url: str) -> bool:
    """A component's health endpoint answers 200 (its serving certificate is self-signed: not checked, the
    address is loopback)."""
    context = ssl._create_unverified_context() if url.startswith("https:") else None  # noqa: S323
    with urllib.request.urlopen(url, context=context, timeout=5) as response:
        return response.status == 200


def _etcd_healthy(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
        return json.load(response).get("health") == "true"


def _kubeconfig(server: str, ca_file: Path, token: str) -> dict:
    """A kubeconfig (JSON is valid YAML) with one cluster, one user and one context, all named logwarden."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "logwarden", "cluster": {"server": server, "certificate-authority": str(ca_file)}}],
        "users": [{"name": "logwarden-admin", "user": {"token": token}}],
        "contexts": [{"name": "logwarden", "context": {"cluster": "logwarden", "user": "logwarden-admin"}}],
        "current-context": "logwarden",
    }
