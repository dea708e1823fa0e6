"""What a Redis URL names: a server, a cluster's seed nodes, or a Sentinel service.

    redis://[USER[:PASSWORD]@]HOST:PORT[,HOST:PORT...][/DB]       (rediss:// with TLS)
    unix://[USER[:PASSWORD]@]/PATH[?db=DB]
    redis+sentinel://[USER[:PASSWORD]@]HOST:PORT[,HOST:PORT...]/SERVICE[/DB]
                                                                   (rediss+sentinel://)

Parsed here, once, so that a bad URL is a configuration error with a name (exit 3)
rather than an exception deep inside redis-py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "rediss+sentinel")
# Query parameters passed on to redis-py as they are (everything else is refused).
TLS_PARAMETERS = frozenset(
    {"ssl_cert_reqs", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_check_hostname"}
)
# Credentials as redis-py takes them from a query (the URL's userinfo wins over these).
CREDENTIAL_PARAMETERS = frozenset({"username", "password", "ssl_password"})
PARAMETERS = TLS_PARAMETERS | CREDENTIAL_PARAMETERS | {"db", "client_name", "protocol"}
_CERT_REQS = ("none", "optional", "required")
_BOOLEANS = ("1", "0", "true", "false", "yes", "no")
_HOST = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$")
DEFAULT_PORT = 6379
DEFAULT_SENTINEL_PORT = 26379


@dataclass(frozen=True)
class RedisTarget:
    scheme: str
    hosts: tuple[tuple[str, int], ...] = ()
    path: str | None = None  # unix socket
    username: str | None = None
    password: str | None = None
    db: int = 0
    service: str | None = None  # Sentinel's name of the master
    options: dict[str, str] = field(default_factory=dict)  # the query's parameters

    @property
    def tls(self) -> bool:
        return self.scheme.startswith("rediss")

    @property
    def sentinel(self) -> bool:
        return self.scheme.endswith("+sentinel")


def parse_redis_url(url: str) -> RedisTarget:
    """The parts of a Redis URL; ValueError names what is wrong (never echoing a password)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        shown = f"{scheme}://" if sep else "(none)"
        raise ValueError(
            f"URL scheme {shown} is not redis://, rediss://, unix://, redis+sentinel:// "
            "or rediss+sentinel://"
        )
    scheme = scheme.lower()
    parts = urlsplit(f"x://{rest}")
    if parts.fragment:
        raise ValueError("the URL has a #fragment, which means nothing to Redis")
    netloc = parts.netloc
    userinfo, at, hostlist = netloc.rpartition("@")
    if not at:
        userinfo, hostlist = "", netloc
    username, password = _credentials(userinfo) if at else (None, None)
    options = _options(parts.query)
    query_user, query_password = options.pop("username", None), options.pop("password", None)
    username = username if username is not None else query_user or None
    password = password if password is not None else query_password or None
    if scheme == "unix":
        if hostlist or not parts.path:
            raise ValueError("a unix:// URL names a socket path: unix:///path/to/redis.sock")
        return RedisTarget(
            scheme, path=unquote(parts.path), username=username, password=password,
            db=_db(options.pop("db", "0")), options=options,
        )  # fmt: skip
    hosts = _hosts(hostlist, DEFAULT_SENTINEL_PORT if scheme.endswith("sentinel") else DEFAULT_PORT)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if scheme.endswith("+sentinel"):
        if not segments:
            raise ValueError("a redis+sentinel:// URL names the service: .../SERVICE[/DB]")
        if len(segments) > 2:
            raise ValueError("a redis+sentinel:// URL's path is /SERVICE[/DB]")
        db = _db(segments[1] if len(segments) > 1 else options.pop("db", "0"))
        return RedisTarget(
            scheme, hosts, username=username, password=password, db=db,
            service=segments[0], options=options,
        )  # fmt: skip
    if len(segments) > 1:
        raise ValueError("the URL's path is /DB, a database number")
    db = _db(segments[0] if segments else options.pop("db", "0"))
    return RedisTarget(scheme, hosts, username=username, password=password, db=db, options=options)


def _credentials(userinfo: str) -> tuple[str | None, str | None]:
    user, colon, password = userinfo.partition(":")
    if not colon:  # redis://secret@host: redis-py takes a lone name as the password
        return None, unquote(user) or None
    return unquote(user) or None, unquote(password)


def _hosts(hostlist: str, default_port: int) -> tuple[tuple[str, int], ...]:
    if not hostlist:
        raise ValueError("the URL names no host")
    hosts = []
    for item in hostlist.split(","):
        match = _HOST.match(item.strip())
        if not match:
            raise ValueError(f"{item.strip() or '(empty)'!r} in the URL is not HOST:PORT")
        port = int(match.group(2)) if match.group(2) else default_port
        if not 0 < port < 65536:
            raise ValueError("the URL's port is not a number from 1 to 65535")
        hosts.append((match.group(1).strip("[]"), port))
    return tuple(hosts)


def _options(query: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ValueError("the URL's query is not NAME=VALUE&...") from None
    options = dict(pairs)
    unknown = sorted(set(options) - PARAMETERS)
    if unknown:
        hint = (
            " (the mode is KAFKAREDIS_REDIS__MODE)"
            if {"cluster", "sentinel"} & set(unknown)
            else ""
        )
        raise ValueError(
            f"URL query parameter(s) {', '.join(unknown)} not supported{hint}; "
            f"known: {', '.join(sorted(PARAMETERS))}"
        )
    if options.get("protocol", "2") not in ("2", "3"):
        raise ValueError("the URL's protocol is 2 or 3")
    if options.get("ssl_cert_reqs", "required").lower() not in _CERT_REQS:
        raise ValueError(f"the URL's ssl_cert_reqs is one of {', '.join(_CERT_REQS)}")
    if options.get("ssl_check_hostname", "true").lower() not in _BOOLEANS:
        raise ValueError("the URL's ssl_check_hostname is true or false")
    for name, value in options.items():
        if any(ord(c) < 32 or c == "\x7f" for c in value) and name not in CREDENTIAL_PARAMETERS:
            raise ValueError(f"the URL's {name} holds a control character")
    return options


def _db(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 5:
        raise ValueError("the URL's database is not a number")
    return int(text)
