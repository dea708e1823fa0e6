"""The secure profile (`up --secure`): one Kafka node and one TLS-only redis-server that
refuse what they do not trust, as production ones do.

- A throwaway CA made with openssl on the first `up` (DIR/secure/, mode 0700): the server
  certificate (CN kafkaredis-broker, SAN IP:127.0.0.1,DNS:localhost; Kafka and Redis),
  a client certificate for mTLS (CN kr-mtls, key encrypted with a password), one that
  expires in EXPIRING_DAYS days (served by the second redis-server, `redis-expiring`),
  and a second CA that signed none of them (`untrusted-ca.pem`, for refusal tests).
- Passwords: random, in DIR/secure/secrets.json (0600); never on a command line except
  `kafka-storage format --add-scram` (the only way Kafka takes SCRAM users at format time).
- Kafka: SASL_SSL (SCRAM-SHA-512) on the Kafka port, SSL with ssl.client.auth=required on
  port + 2, the KRaft controller on port + 1 (SSL, client certificate required; the
  broker's own certificate is its principal); PEM key and trust stores; the
  StandardAuthorizer with allow.everyone.if.no.acl.found=false; super users `admin`
  (SCRAM) and `kafkaredis-broker`; certificate principals are their CN
  (ssl.principal.mapping.rules). ACLs (created after start, as admin): `kr-user` and
  `kr-mtls` may Describe, Read, Write and Create topics prefixed `kr-`, Read and Describe
  groups prefixed `kr-`; nothing else.
- Redis: `--port 0 --tls-port N` (no client certificate needed, one is accepted) with an
  ACL file (hashed passwords): `default` off, `admin` everything, `kr-user` keys `kr:*`
  only, `kr-other` keys `other:*` only.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shlex
import subprocess
from pathlib import Path
from typing import Any

from stacklib.layout import HOST, Node, Stack, StackError, say

EXPIRING_DAYS = 3
VALID_DAYS = 30
BROKER_PRINCIPAL = "kafkaredis-broker"
MTLS_PRINCIPAL = "kr-mtls"
KAFKA_USERS = ("admin", "kr-user")  # SCRAM-SHA-512, created at format time
REDIS_USERS = {
    "admin": "~* &* +@all",
    "kr-user": "~kr:* &* +@all",
    "kr-other": "~other:* &* +@all",
}
TOPIC_PREFIX = "kr-"
GROUP_PREFIX = "kr-"
KEY_PREFIX = "kr"  # Redis keys kr:* (the kr-user's pattern)
ENV_USERS = ("kr-user", "mtls", "admin", "kr-other")
SSL_PORT_OFFSET = 2  # the mTLS listener: Kafka port + 2 (the controller is on + 1)

_EXT = """\
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1, DNS:localhost
"""


def home(stack: Stack) -> Path:
    return stack.dir / "secure"


def path(stack: Stack, name: str) -> Path:
    return home(stack) / name


def ssl_port(stack: Stack) -> int:
    return int(stack.cfg["kafka_port"]) + SSL_PORT_OFFSET


def secrets_of(stack: Stack) -> dict[str, Any]:
    try:
        data = json.loads(path(stack, "secrets.json").read_text())
    except (OSError, ValueError):
        raise StackError(
            f"no secure material in {home(stack)} (start it with `up --secure`)", code=1
        ) from None
    return data if isinstance(data, dict) else {}


# --------------------------------------------------------------------------
# Certificates and passwords


def _openssl(*args: str, env: dict[str, str] | None = None) -> None:
    cmd = ["openssl", *args]
    try:
        res = subprocess.run(
            cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=60
        )
    except FileNotFoundError:
        raise StackError(
            "openssl not found; install it (apt-get install openssl)", code=2
        ) from None
    if res.returncode != 0:
        raise StackError(f"openssl {args[0]} failed", detail=res.stderr.strip())


def _leaf(stack: Stack, name: str, cn: str, days: int) -> None:
    """A key (NAME.key, unencrypted PKCS#8) and a certificate (NAME.pem) signed by the CA."""
    d = home(stack)
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / f"{name}.key"),
             "-out", str(d / f"{name}.csr"), "-subj", f"/O=kafkaredis test/CN={cn}")  # fmt: skip
    _openssl("x509", "-req", "-in", str(d / f"{name}.csr"), "-CA", str(d / "ca.pem"),
             "-CAkey", str(d / "ca.key"), "-set_serial", str(secrets.randbits(63)),
             "-days", str(days), "-sha256", "-extfile", str(d / "ext.cnf"),
             "-out", str(d / f"{name}.pem"))  # fmt: skip
    (d / f"{name}.csr").unlink()


def _ca(stack: Stack, name: str, cn: str) -> None:
    d = home(stack)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / f"{name}.key"),
             "-out", str(d / f"{name}.pem"), "-days", str(VALID_DAYS), "-sha256",
             "-subj", f"/O=kafkaredis test/CN={cn}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip


def ensure_material(stack: Stack) -> None:
    """Make the CA, the certificates and the passwords unless DIR/secure has them."""
    d = home(stack)
    if (d / "secrets.json").is_file() and (d / "client.pem").is_file():
        return
    d.mkdir(parents=True, exist_ok=True)
    d.chmod(0o700)
    token = secrets.token_hex
    secret: dict[str, Any] = {
        "kafka": {user: token(16) for user in KAFKA_USERS},
        "redis": {user: token(16) for user in REDIS_USERS},
        "client_key_password": token(16),
    }
    (d / "ext.cnf").write_text(_EXT)
    _ca(stack, "ca", "kafkaredis throwaway CA")
    _ca(stack, "untrusted-ca", "kafkaredis untrusted CA")
    _leaf(stack, "server", BROKER_PRINCIPAL, VALID_DAYS)
    _leaf(stack, "client", MTLS_PRINCIPAL, VALID_DAYS)
    _leaf(stack, "expiring", "kafkaredis-expiring", EXPIRING_DAYS)
    # The client's key, encrypted (librdkafka's ssl.key.password): the password via env.
    _openssl("pkey", "-in", str(d / "client.key"), "-aes256", "-passout", "env:KR_KEY_PASSWORD",
             "-out", str(d / "client-encrypted.key"),
             env={"KR_KEY_PASSWORD": secret["client_key_password"]})  # fmt: skip
    (d / "client.key").unlink()
    (d / "client-encrypted.key").rename(d / "client.key")
    # Kafka's PEM key store: the key, then the certificate chain.
    keystore = "".join((d / f).read_text() for f in ("server.key", "server.pem", "ca.pem"))
    (d / "server-keystore.pem").write_text(keystore)
    acl = ["user default off"]
    for user, rules in REDIS_USERS.items():
        digest = hashlib.sha256(secret["redis"][user].encode()).hexdigest()
        acl.append(f"user {user} on #{digest} {rules}")
    (d / "users.acl").write_text("\n".join(acl) + "\n")
    for key in d.glob("*.key"):
        key.chmod(0o600)
    secrets_file = d / "secrets.json"
    secrets_file.touch(mode=0o600)
    secrets_file.write_text(json.dumps(secret, indent=2) + "\n")  # last: marks it complete
    say(f"made a throwaway CA and certificates in {d} (one expires in {EXPIRING_DAYS} days)")


# --------------------------------------------------------------------------
# Kafka


def kafka_properties(stack: Stack, node: Node) -> dict[str, str]:
    d = home(stack)
    port, controller, ssl = node.port, node.peer_port, ssl_port(stack)
    return {
        "listeners": f"SASL_SSL://{HOST}:{port},CONTROLLER://{HOST}:{controller},"
        f"SSL://{HOST}:{ssl}",
        "advertised.listeners": f"SASL_SSL://{HOST}:{port},SSL://{HOST}:{ssl}",
        "listener.security.protocol.map": "CONTROLLER:SSL,SASL_SSL:SASL_SSL,SSL:SSL",
        "inter.broker.listener.name": "SSL",
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config":
            "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(d / "server-keystore.pem"),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(d / "ca.pem"),
        "listener.name.ssl.ssl.client.auth": "required",
        "listener.name.controller.ssl.client.auth": "required",
        "ssl.principal.mapping.rules": "RULE:^.*CN=([^,]+).*$/$1/,DEFAULT",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:admin;User:{BROKER_PRINCIPAL}",
    }  # fmt: skip


def scram_args(stack: Stack) -> list[str]:
    """`kafka-storage format` arguments creating the SCRAM users."""
    users = secrets_of(stack)["kafka"]
    return [
        f"--add-scram=SCRAM-SHA-512=[name={user},password={users[user]}]" for user in KAFKA_USERS
    ]


def client_conf(stack: Stack, user: str = "admin") -> dict[str, str]:
    """librdkafka settings (bootstrap included) of `user`: a SCRAM user, or `mtls`."""
    d = home(stack)
    port = int(stack.cfg["kafka_port"])
    if user == "mtls":
        return {
            "bootstrap.servers": f"{HOST}:{ssl_port(stack)}",
            "security.protocol": "SSL",
            "ssl.ca.location": str(d / "ca.pem"),
            "ssl.certificate.location": str(d / "client.pem"),
            "ssl.key.location": str(d / "client.key"),
            "ssl.key.password": secrets_of(stack)["client_key_password"],
        }
    return {
        "bootstrap.servers": f"{HOST}:{port}",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": user,
        "sasl.password": secrets_of(stack)["kafka"][user],
        "ssl.ca.location": str(d / "ca.pem"),
    }


def create_acls(stack: Stack) -> None:
    """The limited users' rights (idempotent: the same bindings again change nothing)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.admin._acl import AclBinding, AclOperation, AclPermissionType
    from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

    admin = AdminClient({**client_conf(stack, "admin"), "log_level": 0})
    allow = AclPermissionType.ALLOW
    prefixed = ResourcePatternType.PREFIXED
    bindings = []
    for principal in ("User:kr-user", f"User:{MTLS_PRINCIPAL}"):
        for op in (AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE,
                   AclOperation.CREATE):  # fmt: skip
            bindings.append(
                AclBinding(ResourceType.TOPIC, TOPIC_PREFIX, prefixed, principal, "*", op, allow)
            )
        for op in (AclOperation.READ, AclOperation.DESCRIBE):
            bindings.append(
                AclBinding(ResourceType.GROUP, GROUP_PREFIX, prefixed, principal, "*", op, allow)
            )
    try:
        for future in admin.create_acls(bindings, request_timeout=15).values():
            future.result()
    except KafkaException as exc:
        raise StackError(f"creating the ACLs failed: {exc.args[0].str()}") from None


# --------------------------------------------------------------------------
# Redis


def redis_args(stack: Stack, node: Node) -> list[str]:
    d = home(stack)
    cert = "expiring" if node.name == "redis-expiring" else "server"
    return [
        "--port", "0", "--tls-port", str(node.port),
        "--tls-cert-file", str(d / f"{cert}.pem"), "--tls-key-file", str(d / f"{cert}.key"),
        "--tls-ca-cert-file", str(d / "ca.pem"), "--tls-auth-clients", "optional",
        "--aclfile", str(d / "users.acl"),
    ]  # fmt: skip


def redis_cli_args(stack: Stack) -> tuple[list[str], str]:
    """redis-cli's TLS and user arguments, and the password (for REDISCLI_AUTH)."""
    args = ["--tls", "--cacert", str(path(stack, "ca.pem")), "--user", "admin"]
    return args, secrets_of(stack)["redis"]["admin"]


def redis_url(stack: Stack, user: str = "kr-user", node: str = "redis") -> str:
    port = next(n.port for n in stack.redis_nodes() if n.name == node)
    password = secrets_of(stack)["redis"][user]
    ca = path(stack, "ca.pem")
    return f"rediss://{user}:{password}@{HOST}:{port}/0?ssl_ca_certs={ca}"


# --------------------------------------------------------------------------
# env


def env_lines(stack: Stack, user: str, comps: list[str]) -> list[str]:
    """`export KAFKAREDIS_...` lines for `user` (kr-user, mtls, admin or kr-other: the
    Kafka side of kr-other is kr-user's, the Redis side of mtls is kr-user's)."""
    if user not in ENV_USERS:
        raise StackError(f"--user wants one of {', '.join(ENV_USERS)}, got {user!r}", code=2)
    lines = []
    if "kafka" in comps:
        conf = client_conf(stack, "kr-user" if user == "kr-other" else user)
        bootstrap = conf.pop("bootstrap.servers")
        lines += [
            f"KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS={bootstrap}",
            f"KAFKAREDIS_KAFKA__PROPERTIES={json.dumps(conf, separators=(',', ':'))}",
            f"KAFKAREDIS_KAFKA__TOPICS={TOPIC_PREFIX}events",
            f"KAFKAREDIS_KAFKA__GROUP_ID={GROUP_PREFIX}group",
        ]
    if "redis" in comps:
        redis_user = "kr-user" if user == "mtls" else user
        lines += [
            f"KAFKAREDIS_REDIS__URL={redis_url(stack, redis_user)}",
            f"KAFKAREDIS_REDIS__KEY_PREFIX={KEY_PREFIX}",
        ]
    return [f"export {name}={shlex.quote(value)}" for name, _, value in
            (line.partition("=") for line in lines)]  # fmt: skip
