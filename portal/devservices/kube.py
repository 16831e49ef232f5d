"""A real Kubernetes API server (v1.20, built from Debian's source package) on Debian's etcd.

Only the control plane's API is started: no controller manager, scheduler or nodes. That is what the portal
needs to apply and read the shipper's objects (namespaces, ConfigMaps, Secrets, DaemonSets).
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
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc"


class KubeService(Service):
    name = "kube"
    ready_timeout = 90.0

    def __init__(self, state_root: Path, *, persistent: bool = False):
        super().__init__(state_root, persistent=persistent)
        self.apiserver = ""

    def install(self) -> None:
        """Runs the build script (a no-op once the binary is cached), streaming its progress to stderr."""
        self.apiserver = run_build_script(self.name, BUILD_SCRIPT)
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
        token = generate_password()
        tokens = pki / "tokens.csv"
        tokens.write_text(f'{token},admin,admin,"system:masters"\n')
        tokens.chmod(0o600)

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
            f"--token-auth-file={tokens}",
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

        kubeconfig = self.dir / "kubeconfig"
        kubeconfig.write_text(json.dumps(_kubeconfig(f"https://127.0.0.1:{port}", cert_dir / "apiserver.crt",
                                                     token), indent=2))
        kubeconfig.chmod(0o600)
        return {"LOGWARDEN_KUBECONFIG": str(kubeconfig)}

    def is_ready(self, env: Mapping[str, str]) -> bool:
        """The API server answers /readyz with 200 to the kubeconfig's token over TLS checked against its CA."""
        config = json.loads(Path(env["LOGWARDEN_KUBECONFIG"]).read_text())
        cluster = config["clusters"][0]["cluster"]
        context = ssl.create_default_context(cafile=cluster["certificate-authority"])
        request = urllib.request.Request(
            f"{cluster['server']}/readyz",
            headers={"Authorization": f"Bearer {config['users'][0]['user']['token']}"})
        with urllib.request.urlopen(request, context=context, timeout=5) as response:
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
