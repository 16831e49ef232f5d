"""A real OpenLDAP server (Debian's slapd) holding a small demo directory for sign-in.

slapd runs from a slapd.conf of its own under the state directory, with a fresh mdb database on every start
(a development profile keeps its database across restarts), on 127.0.0.1 only; it needs no root. Once it
answers, the demo people and groups below are loaded with ldapadd into a fresh database. The portal and the
tests bind as the directory's root DN (LDAP_BIND_DN / LDAP_BIND_PASSWORD, a password generated per start).

The demo passwords are fixed on purpose: this is a local demo directory, not a store of secrets.

    uid    password              groups                               role
    alice  alice-demo-password   team-payments                        engineer
    bob    bob-demo-password     team-payments, logwarden-owners      owner of payments
    carol  carol-demo-password   logwarden-auditors                   CISO / security auditor
    dave   dave-demo-password    logwarden-admins                     platform admin (Django staff + superuser)
    erin   erin-demo-password    team-checkout                        engineer
    frank  frank-demo-password   team-checkout, logwarden-owners      owner of checkout

People are inetOrgPerson entries under ou=people, groups are groupOfNames under ou=groups; passwords are
stored as {SSHA} hashes made by slappasswd at seed time.
"""
from __future__ import annotations

import io
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import ldap
import ldif

from .base import Service, ServiceError, free_port, generate_password, log_tail, run_checked

SUFFIX = "dc=logwarden,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
USER_BASE = f"ou=people,{SUFFIX}"
GROUP_BASE = f"ou=groups,{SUFFIX}"

# Debian's locations first, then those of other distributions' OpenLDAP packages.
SCHEMA_DIRS = (Path("/etc/ldap/schema"), Path("/etc/openldap/schema"))
MODULE_DIRS = (Path("/usr/lib/ldap"), Path("/usr/lib64/openldap"), Path("/usr/lib/openldap"))
SCHEMAS = ("core", "cosine", "nis", "inetorgperson")  # in dependency order
# slapd lives in sbin, which an ordinary user's PATH often lacks.
TOOL_PATH = "/usr/sbin:/usr/local/sbin:/usr/bin:/usr/local/bin"


@dataclass(frozen=True)
class DemoPerson:
    uid: str
    given_name: str
    surname: str
    password: str
    groups: tuple[str, ...]

    @property
    def dn(self) -> str:
        return f"uid={self.uid},{USER_BASE}"


DEMO_PEOPLE = (
    DemoPerson("alice", "Alice", "Andersen", "alice-demo-password", ("team-payments",)),
    DemoPerson("bob", "Bob", "Brandt", "bob-demo-password", ("team-payments", "logwarden-owners")),
    DemoPerson("carol", "Carol", "Castillo", "carol-demo-password", ("logwarden-auditors",)),
    DemoPerson("dave", "Dave", "Dubois", "dave-demo-password", ("logwarden-admins",)),
    DemoPerson("erin", "Erin", "Eriksen", "erin-demo-password", ("team-checkout",)),
    DemoPerson("frank", "Frank", "Fischer", "frank-demo-password", ("team-checkout", "logwarden-owners")),
)
DEMO_GROUPS = ("team-payments", "team-checkout", "logwarden-owners", "logwarden-auditors", "logwarden-admins")


def group_dn(name: str) -> str:
    return f"cn={name},{GROUP_BASE}"


class LdapService(Service):
    name = "ldap"
    ready_timeout = 20.0
    _seeded = False  # whether the database launched holds the demo directory already

    def install(self) -> None:
        missing = [tool for tool in ("slapd", "slaptest", "slappasswd", "ldapadd") if not self._tool(tool)]
        if missing:
            raise ServiceError(f"ldap: {', '.join(missing)} not installed (Debian packages slapd and ldap-utils; "
                               "scripts/install-system-deps.sh)")
        if not self._first_dir_with(SCHEMA_DIRS, "core.schema"):
            raise ServiceError(f"ldap: no core.schema in {', '.join(map(str, SCHEMA_DIRS))}")

    def launch(self) -> dict[str, str]:
        port = free_port()
        password = generate_password()
        # A fresh database every start (but a development profile's): the seed is then always loadable and tests
        # never see a previous run's changes.
        data = self.data_dir("ldap")
        self._seeded = (data / "data.mdb").exists()
        conf = self.dir / "slapd.conf"
        conf.write_text(self._config(data, self._hash(password)))
        conf.chmod(0o600)
        run_checked([self._tool("slaptest"), "-f", str(conf), "-u"], "ldap: slaptest")
        uri = f"ldap://127.0.0.1:{port}/"
        # -d keeps slapd in the foreground so its pid is the one recorded; level "none" prints only the
        # messages without a level, which are its errors (bind failures, module load errors), while -d 0
        # would print nothing at all.
        self.spawn("slapd", [self._tool("slapd"), "-f", str(conf), "-h", uri, "-d", "none"])
        return {
            "LDAP_URI": uri,
            "LDAP_BIND_DN": ADMIN_DN,
            "LDAP_BIND_PASSWORD": password,
            "LDAP_USER_BASE": USER_BASE,
            "LDAP_GROUP_BASE": GROUP_BASE,
        }

    def is_ready(self, env: Mapping[str, str]) -> bool:
        conn = ldap.initialize(env["LDAP_URI"])
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 2)
        conn.set_option(ldap.OPT_TIMEOUT, 2)
        try:
            conn.simple_bind_s(env["LDAP_BIND_DN"], env["LDAP_BIND_PASSWORD"])
        finally:
            conn.unbind_s()
        return True

    def after_ready(self, env: Mapping[str, str]) -> None:
        if self._seeded:
            return  # a kept database holds the demo directory, with whatever was changed in it since
        seed = self.dir / "seed.ldif"
        seed.write_text(self._seed_ldif())
        try:
            # the password goes through stdin, not argv, so other local users cannot read it from ps
            run_checked([self._tool("ldapadd"), "-x", "-H", env["LDAP_URI"], "-D", env["LDAP_BIND_DN"],
                         "-y", "/dev/stdin", "-f", str(seed)], "ldap: loading the demo directory",
                        input=env["LDAP_BIND_PASSWORD"])
        except ServiceError as exc:
            raise ServiceError(f"{exc}\n--- {self.log_path('slapd')} ---\n{log_tail(self.log_path('slapd'))}") \
                from None

    def _config(self, data: Path, root_password_hash: str) -> str:
        schema_dir = self._first_dir_with(SCHEMA_DIRS, "core.schema")
        module_dir = self._first_dir_with(MODULE_DIRS, "back_mdb.so")
        lines = [f"include {schema_dir / (schema + '.schema')}" for schema in SCHEMAS]
        # Without the module directory the backend is assumed to be built into slapd.
        if module_dir:
            lines += [f"modulepath {module_dir}", "moduleload back_mdb"]
        lines += [
            # not *.pid: the harness reads those as its own records of the processes it spawned
            f"pidfile {self.dir / 'slapd.pidfile'}",
            f"argsfile {self.dir / 'slapd.args'}",
            # Password hashes are readable by no one; bound users (the portal) read the rest; anonymous
            # clients may only bind.
            "access to attrs=userPassword by self write by anonymous auth by * none",
            "access to * by users read by anonymous auth",
            "database mdb",
            f'suffix "{SUFFIX}"',
            f'rootdn "{ADMIN_DN}"',
            f"rootpw {root_password_hash}",
            f"directory {data}",
            "index objectClass,uid,member eq",
        ]
        return "\n".join(lines) + "\n"

    def _seed_ldif(self) -> str:
        entries = [
            (SUFFIX, {"objectClass": ["dcObject", "organization"], "dc": ["logwarden"], "o": ["Logwarden demo"]}),
            (USER_BASE, {"objectClass": ["organizationalUnit"], "ou": ["people"]}),
            (GROUP_BASE, {"objectClass": ["organizationalUnit"], "ou": ["groups"]}),
        ]
        for person in DEMO_PEOPLE:
            entries.append((person.dn, {
                "objectClass": ["inetOrgPerson"],
                "uid": [person.uid],
                "cn": [f"{person.given_name} {person.surname}"],
                "givenName": [person.given_name],
                "sn": [person.surname],
                "mail": [f"{person.uid}@logwarden.test"],
                "userPassword": [self._hash(person.password)],
            }))
        for name in DEMO_GROUPS:
            entries.append((group_dn(name), {
                "objectClass": ["groupOfNames"],
                "cn": [name],
                "member": [person.dn for person in DEMO_PEOPLE if name in person.groups],
            }))
        out = io.StringIO()
        writer = ldif.LDIFWriter(out)
        for dn, attrs in entries:
            writer.unparse(dn, {attr: [value.encode() for value in values] for attr, values in attrs.items()})
        return out.getvalue()

    def _hash(self, password: str) -> str:
        # stdin rather than -s keeps the password out of the process list
        return run_checked([self._tool("slappasswd"), "-h", "{SSHA}", "-n", "-T", "/dev/stdin"],
                           "ldap: slappasswd", input=password).stdout.strip()

    @staticmethod
    def _tool(name: str) -> str | None:
        return shutil.which(name, path=TOOL_PATH)

    @staticmethod
    def _first_dir_with(candidates: tuple[Path, ...], filename: str) -> Path | None:
        return next((d for d in candidates if (d / filename).exists()), None)
