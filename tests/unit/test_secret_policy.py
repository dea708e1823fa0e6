"""The one secret policy (kafkaredis_cli/secrets.py), enumerated: every sensitive librdkafka
property, every name pattern, every way a Redis URL carries a password, in every scheme."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from kafkaredis_cli.redis_url import SCHEMES, parse_redis_url
from kafkaredis_cli.secrets import (
    LIBRDKAFKA_SENSITIVE,
    MASK,
    REDIS_CREDENTIAL_PARAMETERS,
    is_secret_property,
    mask_properties,
    mask_url,
)
from kafkaredis_cli.settings import load_settings

SECRET = "s3cr3t-Hunter2"

# librdkafka's _RK_SENSITIVE properties (src/rdkafka_conf.c), written out here so that a
# name dropped from the policy fails this test.
LIBRDKAFKA_REDACTS = [
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
]
# Names that say "secret" though librdkafka does not flag them (plugins, later versions).
BY_NAME = [
    "sasl.jaas.config",
    "sasl.kerberos.keytab",
    "ssl.keystore.location",
    "sasl.oauthbearer.token.endpoint.url",
    "some.plugin.api.token",
    "my.client.secret",
    "x.private.key",
    "a.passphrase",
    "a.credentials",
    "SSL.KEY.PASSWORD",
]
# Ordinary properties stay visible (a policy that masks everything helps nobody).
VISIBLE = [
    "acks",
    "linger.ms",
    "bootstrap.servers",
    "client.id",
    "security.protocol",
    "sasl.mechanism",
    "ssl.certificate.location",
    "ssl.endpoint.identification.algorithm",
    "message.max.bytes",
    "enable.idempotence",
    "partitioner",
    "debug",
]


def test_the_policy_holds_exactly_librdkafkas_sensitive_list() -> None:
    assert set(LIBRDKAFKA_REDACTS) == LIBRDKAFKA_SENSITIVE


@pytest.mark.parametrize("name", LIBRDKAFKA_REDACTS + BY_NAME)
def test_every_sensitive_property_is_masked_in_config(name: str) -> None:
    assert is_secret_property(name)
    settings = load_settings({"kafka": {"properties": {name: SECRET, "acks": "all"}}})
    shown = json.dumps(settings.masked())
    assert SECRET not in shown
    assert settings.masked()["kafka"]["properties"] == {name: MASK, "acks": "all"}
    assert mask_properties({name: SECRET}) == {name: MASK}


@pytest.mark.parametrize("name", VISIBLE)
def test_ordinary_properties_are_shown(name: str) -> None:
    assert not is_secret_property(name)
    assert mask_properties({name: "v"}) == {name: "v"}


def test_sasl_fields_are_masked_like_their_librdkafka_properties() -> None:
    settings = load_settings({"kafka": {"sasl_username": SECRET, "sasl_password": SECRET}})
    masked = settings.masked()["kafka"]
    assert (masked["sasl_username"], masked["sasl_password"]) == (MASK, MASK)


def _hosts(scheme: str) -> str:
    return {
        "unix": "/run/redis.sock",
        "redis+sentinel": "s1:26379,s2:26379/svc/1",
        "rediss+sentinel": "s1:26379/svc",
    }.get(scheme, "h1:6379,h2:6380/2")


def _url(scheme: str, userinfo: str = "", query: str = "") -> str:
    hosts = _hosts(scheme)
    if scheme == "unix":
        return f"unix://{userinfo}{hosts}{'?' + query if query else ''}"
    return f"{scheme}://{userinfo}{hosts}{'?' + query if query else ''}"


# Each way a URL holds a secret -> (userinfo, query) as written and as masked.
URL_FORMS = {
    "user and password": (f"app:{SECRET}@", "", f"app:{MASK}@", ""),
    "password only": (f":{SECRET}@", "", f":{MASK}@", ""),
    "a lone name (redis-py: a password)": (f"{SECRET}@", "", f"{MASK}@", ""),
    "percent-encoded": (f":{quote(SECRET + '/?#@', safe='')}@", "", f":{MASK}@", ""),
    "query password": ("", f"password={SECRET}", "", f"password={MASK}"),
    "query username and password": (
        "",
        f"username=app&password={SECRET}",
        "",
        f"username=app&password={MASK}",
    ),
    "query ssl_password": ("", f"ssl_password={SECRET}", "", f"ssl_password={MASK}"),
}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("form", URL_FORMS, ids=str)
def test_every_url_form_is_masked_in_every_scheme(scheme: str, form: str) -> None:
    userinfo, query, masked_userinfo, masked_query = URL_FORMS[form]
    url = _url(scheme, userinfo, query)
    target = parse_redis_url(url)  # a URL the tool accepts ...
    assert target.password is not None or "ssl_password" in target.options  # ... and uses
    assert mask_url(url) == _url(scheme, masked_userinfo, masked_query)
    assert SECRET not in mask_url(url)


@pytest.mark.parametrize(
    "url",
    [
        f"redis://:{SECRET}/x@h:1/0",  # unencoded '/', '?', '#' in a password
        f"redis://:ab?{SECRET}@h:1/0",
        f"redis://:ab?x={SECRET}@h:1/0",
        f"redis://:ab#{SECRET}@h:1/0",
        f"redis://u:{SECRET}@h:1/0?client_name=a@b",
        f"redis://h:1/0?password={SECRET}&&&",  # a query that does not parse
        f"redis://h:1/0?x=1#{SECRET}",
        f"redis://h:1/0#{SECRET}",
        f"{SECRET}@h:1",  # no scheme at all
        f"http://:{SECRET}@h:1",  # not even a Redis scheme
    ],
)
def test_ambiguous_urls_are_masked_on_the_safe_side(url: str) -> None:
    assert SECRET not in mask_url(url)
    assert SECRET[-6:] not in mask_url(url)


def test_a_url_without_secrets_is_shown_as_written() -> None:
    for url in (
        "redis://h:1/0",
        "rediss://h:1/0?ssl_cert_reqs=none&client_name=app",
        "unix:///run/redis.sock?db=2",
        "redis+sentinel://s1:26379,s2:26379/svc/1",
    ):
        assert mask_url(url) == url


def test_credential_parameters_are_all_masked() -> None:
    for name in REDIS_CREDENTIAL_PARAMETERS:
        assert mask_url(f"rediss://h:1/0?{name}={SECRET}") == f"rediss://h:1/0?{name}={MASK}"


def test_userinfo_wins_over_query_credentials_as_in_redis_py() -> None:
    target = parse_redis_url("redis://u:p@h:1/0?username=q&password=r")
    assert (target.username, target.password) == ("u", "p")
    assert "password" not in target.options and "username" not in target.options


@pytest.mark.parametrize("server", [f"user:{SECRET}@h:9092", f"SASL_SSL://u:{SECRET}@h:9092"])
def test_a_bootstrap_address_with_a_password_is_refused_without_showing_it(server: str) -> None:
    from kafkaredis_cli.errors import ConfigError

    with pytest.raises(ConfigError, match="is not host:port") as raised:
        load_settings({"kafka": {"bootstrap_servers": server}})
    assert SECRET not in str(raised.value)
