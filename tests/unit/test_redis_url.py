"""Redis URLs and modes: what each form names, and the named error of each bad form."""

from __future__ import annotations

import re

import pytest

from kafkaredis_cli.errors import ConfigError
from kafkaredis_cli.redis_url import parse_redis_url
from kafkaredis_cli.settings import load_settings, mask_url


def test_a_server_a_node_list_and_a_sentinel_service() -> None:
    one = parse_redis_url("redis://u:p%40ss@127.0.0.1:7000/2")
    assert (one.hosts, one.username, one.password, one.db) == (
        (("127.0.0.1", 7000),),
        "u",
        "p@ss",
        2,
    )
    assert not one.tls and not one.sentinel
    nodes = parse_redis_url("rediss://h1:7000,h2:7001,[::1]:7002")
    assert nodes.hosts == (("h1", 7000), ("h2", 7001), ("::1", 7002)) and nodes.tls
    sentinel = parse_redis_url("redis+sentinel://:pw@s1:26379,s2/kafkaredis/3")
    assert sentinel.sentinel and sentinel.service == "kafkaredis" and sentinel.db == 3
    assert sentinel.hosts == (("s1", 26379), ("s2", 26379)) and sentinel.password == "pw"
    assert parse_redis_url("rediss+sentinel://s1:1/svc").tls
    unix = parse_redis_url("unix:///run/redis.sock?db=4")
    assert (unix.path, unix.db) == ("/run/redis.sock", 4)
    lone = parse_redis_url("redis://secret@h:1")  # redis-py: a lone name is the password
    assert (lone.username, lone.password) == (None, "secret")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redix://h:1", "URL scheme redix:// is not"),
        ("h:1", "URL scheme (none) is not"),
        (
            "redis://h:1/0?cluster=maybe",
            "cluster not supported (the mode is KAFKAREDIS_REDIS__MODE)",
        ),
        ("redis://h:1/0?socket_timeout=3", "socket_timeout not supported"),
        ("redis://h:1/x", "database is not a number"),
        ("redis://h:99999/0", "port is not a number from 1 to 65535"),
        ("redis://h:1,,h:2/0", "'(empty)' in the URL is not HOST:PORT"),
        ("redis:///0", "names no host"),
        ("redis+sentinel://s:1", "names the service"),
        ("redis+sentinel://s:1/a/b/c", "/SERVICE[/DB]"),
        ("redis://h:1/0?protocol=4", "protocol is 2 or 3"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_redis_url(url)


@pytest.mark.parametrize(
    ("url", "mode", "message"),
    [
        ("redis://h:1/0", "sentinel", "mode sentinel needs a redis+sentinel://"),
        ("redis+sentinel://s:1/svc", "cluster", "cannot be used in mode cluster"),
        ("redis://h:1,h:2/0", "standalone", "one HOST:PORT, not a list"),
        ("redis://h:1/3", "cluster", "database 0 only"),
        ("unix:///tmp/r.sock", "cluster", "not a unix socket"),
        ("redis://h:1/0", "sometimes", "auto"),
    ],
)
def test_a_mode_that_does_not_fit_the_url(url: str, mode: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        load_settings({"redis": {"url": url, "mode": mode}})
    assert caught.value.exit_status == 3


def test_passwords_are_masked_in_every_form() -> None:
    assert mask_url("redis://u:pw@h1:1,h2:2/0") == "redis://u:****@h1:1,h2:2/0"
    assert mask_url("redis+sentinel://:pw@s:1/svc/0") == "redis+sentinel://:****@s:1/svc/0"
    assert mask_url("redis://secret@h:1") == "redis://****@h:1"
    assert mask_url("redis://h:1/0") == "redis://h:1/0"
    settings = load_settings({"redis": {"url": "redis://h:1", "sentinel_password": "sp"}})
    assert settings.masked()["redis"]["sentinel_password"] == "****"
    assert "sp" not in str(settings.masked())
