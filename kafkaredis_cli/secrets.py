"""The one secret policy: what is a secret, and how a URL or a property is shown.

Every place that shows a Redis URL or a librdkafka property goes through `mask_url` and
`mask_properties` (settings, `config`, `check`, error messages, logs).

A secret reaches the tool as
- a URL's userinfo (`redis://USER:PASSWORD@…`; a lone `redis://NAME@…` is a password to
  redis-py), in every scheme (redis, rediss, unix, redis+sentinel, rediss+sentinel);
- a URL query parameter redis-py takes as a credential (`password`, `ssl_password`) or
  whose name says it is one;
- a librdkafka property librdkafka itself redacts (LIBRDKAFKA_SENSITIVE), or whose name
  holds password, secret, passphrase, token, credential, jaas, key material (key, keystore,
  keytab, private key).
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl

MASK = "****"

# Every property librdkafka flags _RK_SENSITIVE (src/rdkafka_conf.c, the flag that makes
# librdkafka print "[redacted]"; CONFIGURATION.md does not mark them), librdkafka master
# of 2026-07 (commit 4c3b017c3de8).
LIBRDKAFKA_SENSITIVE = frozenset(
    {
        "sasl.oauthbearer.assertion.private.key.file",
        "sasl.oauthbearer.assertion.private.key.passphrase",
        "sasl.oauthbearer.assertion.private.key.pem",
        "sasl.oauthbearer.client.secret",
        "sasl.oauthbearer.config",
        "sasl.password",
        "sasl.username",
        "ssl.ca.pem",
        "ssl.key.location",
        "ssl.key.password",
        "ssl.key.pem",
        "ssl.keystore.password",
        "ssl_key",
    }
)

# Names that say "secret" whatever librdkafka (or a plugin, or a later version) calls them.
_SECRET_NAME = re.compile(
    r"password|passwd|secret|passphrase|token|credential|jaas|keystore|keytab|private"
    r"|(?:^|[._-])key(?:$|[._-])",
    re.I,
)

# Redis URL query parameters redis-py passes on as credentials.
REDIS_CREDENTIAL_PARAMETERS = frozenset({"password", "ssl_password"})


def is_secret_property(name: str) -> bool:
    """Is the librdkafka property `name` (or any setting of that name) a secret?"""
    return name.strip().lower() in LIBRDKAFKA_SENSITIVE or bool(_SECRET_NAME.search(name))


def is_secret_parameter(name: str) -> bool:
    """Is the URL query parameter `name` a credential?"""
    return name.strip().lower() in REDIS_CREDENTIAL_PARAMETERS or bool(_SECRET_NAME.search(name))


def mask_properties(properties: Mapping[str, str]) -> dict[str, str]:
    return {name: MASK if is_secret_property(name) else value for name, value in properties.items()}


def mask_url(url: str) -> str:
    """The URL with its password and credential parameters replaced by MASK.

    Fail safe: where the URL is ambiguous (an '@' after the host part: a password holding
    '/', '?' or '#' unencoded), everything before the last '@' is masked; a query that
    does not parse as NAME=VALUE&... is masked whole."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return MASK if "@" in url else url
    end = _first_of(rest, "/?#")
    authority, tail = rest[:end], rest[end:]
    if "@" in tail:  # not where a well-formed URL has it: assume the worst
        after = rest[rest.rfind("@") + 1 :]
        cut = _first_of(after, "/?#")
        authority, tail = f"{MASK}@{after[:cut]}", after[cut:]
    else:
        userinfo, at_sign, hosts = authority.rpartition("@")
        if at_sign:
            user, colon, _password = userinfo.partition(":")
            authority = f"{user}:{MASK}@{hosts}" if colon else f"{MASK}@{hosts}"
    return f"{scheme}://{authority}{_mask_tail(tail)}"


def _first_of(text: str, characters: str) -> int:
    found = [i for i in (text.find(c) for c in characters) if i >= 0]
    return min(found) if found else len(text)


def _mask_tail(tail: str) -> str:
    path, question, rest = tail.partition("?")
    if not question:
        return _mask_fragment(path)
    query, hash_sign, _fragment = rest.partition("#")
    fragment_part = f"#{MASK}" if hash_sign else ""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        return f"{path}?{MASK}{fragment_part}"
    shown = "&".join(
        f"{name}={MASK if is_secret_parameter(name) else value}" for name, value in pairs
    )
    if any(is_secret_parameter(name) for name, _ in pairs) or hash_sign:
        return f"{path}?{shown}{fragment_part}"
    return f"{path}?{query}{fragment_part}"  # untouched: as the user wrote it


def _mask_fragment(path: str) -> str:
    before, hash_sign, _fragment = path.partition("#")
    return f"{before}#{MASK}" if hash_sign else before


def exposed_env_file(path: Path) -> str | None:
    """A one-line warning when the env file `path` holds a secret and its group or others
    may read it (as ssh says of a private key), else None."""
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode) or not status.st_mode & 0o044:
            return None
        text = path.read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return None
    if not any(_line_holds_secret(line) for line in text.splitlines()):
        return None
    mode = stat.S_IMODE(status.st_mode)
    return (
        f"env file {path} holds a secret and is readable by group or others "
        f"(mode {mode:04o}): chmod 600 {path}"
    )


def _line_holds_secret(line: str) -> bool:
    name, sep, value = line.strip().removeprefix("export ").partition("=")
    value = value.strip().strip("'\"")
    if not sep or name.lstrip().startswith("#") or not value:
        return False
    if _SECRET_NAME.search(name) or mask_url(value) != value:
        return True
    if value.startswith("{"):  # a JSON map of librdkafka properties
        try:
            properties = json.loads(value)
        except ValueError:
            return False
        return isinstance(properties, dict) and any(map(is_secret_property, properties))
    return False
