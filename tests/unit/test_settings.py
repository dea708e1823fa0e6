"""Settings: environment, .env, overrides (which win), validation and masking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kafkaredis_cli.errors import ConfigError, ExitStatus
from kafkaredis_cli.settings import MASK, load_settings, mask_url

SECRET = "s3cr3t-Pa55"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No KAFKAREDIS_ variable from outside, and no .env in the working directory."""
    import os

    for key in list(os.environ):
        if key.startswith("KAFKAREDIS_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults() -> None:
    settings = load_settings()
    assert settings.kafka.bootstrap_servers == "localhost:9092"
    assert settings.kafka.topics == ["kafkaredis-events"]
    assert settings.kafka.default_topic == "kafkaredis-events"
    assert settings.redis.url.get_secret_value() == "redis://localhost:6379/0"
    assert settings.redis.key_prefix == "kafkaredis"
    assert settings.redis.ttl_s == 3600
    assert settings.log_level == "WARNING"
    assert 0 < settings.kafka.timeout_s <= 10 and 0 < settings.redis.timeout_s <= 10


def test_environment_with_nested_delimiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS", "a:1, b:2")
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TOPICS", "one,two , three")
    monkeypatch.setenv("KAFKAREDIS_REDIS__TTL_S", "60")
    monkeypatch.setenv("KAFKAREDIS_LOG_LEVEL", "debug")
    settings = load_settings()
    assert settings.kafka.bootstrap_servers == "a:1,b:2"
    assert settings.kafka.topics == ["one", "two", "three"]
    assert settings.redis.ttl_s == 60
    assert settings.log_level == "DEBUG"


def test_topics_as_json_list_and_properties_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TOPICS", '["x", "y"]')
    monkeypatch.setenv("KAFKAREDIS_KAFKA__PROPERTIES", '{"acks": "1"}')
    settings = load_settings()
    assert settings.kafka.topics == ["x", "y"]
    assert settings.kafka.to_librdkafka()["acks"] == "1"


def test_dotenv_in_the_working_directory_and_env_file_option(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_text("KAFKAREDIS_KAFKA__TOPICS=from-dotenv\n")
    assert load_settings().kafka.default_topic == "from-dotenv"
    other = clean_env / "other.env"
    other.write_text("KAFKAREDIS_KAFKA__TOPICS=from-other\nKAFKAREDIS_REDIS__KEY_PREFIX=p:\n")
    settings = load_settings(env_file=other)
    assert settings.kafka.default_topic == "from-other"
    assert settings.redis.key_prefix == "p"  # a trailing colon is dropped
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TOPICS", "from-env")
    assert load_settings().kafka.default_topic == "from-env"  # environment beats .env


def test_missing_env_file_is_a_config_error(clean_env: Path) -> None:
    with pytest.raises(ConfigError, match=r"env file .*nope\.env does not exist") as info:
        load_settings(env_file=clean_env / "nope.env")
    assert info.value.exit_status is ExitStatus.CONFIG


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS", "env:1")
    monkeypatch.setenv("KAFKAREDIS_REDIS__URL", "redis://env:1/0")
    monkeypatch.setenv("KAFKAREDIS_KAFKA__TOPICS", "env-topic")
    settings = load_settings(
        {
            "kafka": {"bootstrap_servers": "cli:2", "properties": {"acks": "all"}},
            "redis": {"url": "redis://cli:2/1"},
        }
    )
    assert settings.kafka.bootstrap_servers == "cli:2"
    assert settings.redis.url.get_secret_value() == "redis://cli:2/1"
    assert settings.kafka.topics == ["env-topic"]  # what the options do not set stays
    assert settings.kafka.to_librdkafka()["acks"] == "all"


def test_librdkafka_config_carries_sasl_and_properties_win() -> None:
    settings = load_settings(
        {
            "kafka": {
                "bootstrap_servers": "h:9093",
                "security_protocol": "SASL_SSL",
                "sasl_mechanism": "PLAIN",
                "sasl_username": "u",
                "sasl_password": SECRET,
                "timeout_s": 2.5,
                "properties": {"client.id": "mine", "sasl.mechanism": "SCRAM-SHA-512"},
            }
        }
    )
    conf = settings.kafka.to_librdkafka()
    assert conf["bootstrap.servers"] == "h:9093"
    assert conf["security.protocol"] == "SASL_SSL"
    assert conf["sasl.username"] == "u" and conf["sasl.password"] == SECRET
    assert conf["sasl.mechanism"] == "SCRAM-SHA-512"
    assert conf["client.id"] == "mine"
    assert conf["socket.connection.setup.timeout.ms"] == "2500"


def test_masked_settings_hide_every_secret() -> None:
    settings = load_settings(
        {
            "kafka": {
                "sasl_password": SECRET,
                "properties": {
                    "ssl.key.password": SECRET,
                    "sasl.oauthbearer.client.secret": SECRET,
                    "ssl.key.pem": SECRET,
                    "sasl.jaas.config": SECRET,
                    "sasl.oauthbearer.config": f"clientSecret={SECRET}",
                    "acks": "all",
                },
            },
            "redis": {"url": f"rediss://user:{SECRET}@cache.example:6380/2"},
        }
    )
    masked = settings.masked()
    assert SECRET not in json.dumps(masked)
    assert masked["kafka"]["sasl_password"] == MASK
    assert masked["kafka"]["properties"]["acks"] == "all"
    assert masked["redis"]["url"] == f"rediss://user:{MASK}@cache.example:6380/2"
    assert SECRET not in repr(settings.redis)  # SecretStr


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://localhost:6379/0", "redis://localhost:6379/0"),
        (f"redis://:{SECRET}@h:1/0", f"redis://:{MASK}@h:1/0"),
        (f"redis://default:{SECRET}@h/0", f"redis://default:{MASK}@h/0"),
        (f"redis://{SECRET}@h:1", f"redis://{MASK}@h:1"),
        (
            f"rediss://u:{SECRET}@h:1/0?ssl_cert_reqs=none",
            f"rediss://u:{MASK}@h:1/0?ssl_cert_reqs=none",
        ),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"redis": {"url": "http://h:1"}}, r"redis\.url \(KAFKAREDIS_REDIS__URL\): URL scheme"),
        ({"redis": {"url": "redis://h:99999/0"}}, r"redis\.url .*port"),
        ({"redis": {"url": "redis://"}}, r"redis\.url .*names no host"),
        ({"redis": {"ttl_s": 0}}, r"redis\.ttl_s \(KAFKAREDIS_REDIS__TTL_S\)"),
        ({"redis": {"key_prefix": "a b"}}, r"redis\.key_prefix"),
        ({"kafka": {"bootstrap_servers": "nohost"}}, r"kafka\.bootstrap_servers .*not host:port"),
        ({"kafka": {"bootstrap_servers": " , "}}, r"no bootstrap server"),
        ({"kafka": {"topics": "bad topic!"}}, r"kafka\.topics .*not a valid Kafka topic name"),
        ({"kafka": {"timeout_s": -1}}, r"kafka\.timeout_s"),
        ({"log_level": "LOUD"}, r"log_level \(KAFKAREDIS_LOG_LEVEL\)"),
        ({"log_format": "xml"}, r"log_format"),
    ],
)
def test_bad_values_are_one_config_error_naming_the_setting(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(overrides)
    text = str(info.value)
    assert text.startswith("bad setting: ")
    assert "\n" not in text
    assert info.value.exit_status is ExitStatus.CONFIG


def test_a_bad_url_never_echoes_its_password() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"redis": {"url": f"http://u:{SECRET}@h:1/0"}})
    assert SECRET not in str(info.value)
    with pytest.raises(ConfigError) as info:
        load_settings({"redis": {"url": f"redis://u:{SECRET}@h:notaport/0"}})
    assert SECRET not in str(info.value)


def test_bad_value_from_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKAREDIS_REDIS__TTL_S", "soon")
    with pytest.raises(ConfigError, match=r"KAFKAREDIS_REDIS__TTL_S"):
        load_settings()


def test_expected_brokers_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().kafka.expected_brokers is None
    monkeypatch.setenv("KAFKAREDIS_KAFKA__EXPECTED_BROKERS", "3")
    assert load_settings().kafka.expected_brokers == 3
    monkeypatch.setenv("KAFKAREDIS_KAFKA__EXPECTED_BROKERS", "0")
    with pytest.raises(ConfigError, match=r"KAFKAREDIS_KAFKA__EXPECTED_BROKERS"):
        load_settings()
