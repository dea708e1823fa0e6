"""One settings object: environment (KAFKAREDIS_…), a .env file, and CLI overrides."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from kafkaredis_cli.errors import ConfigError, shown
from kafkaredis_cli.names import group_problem, key_prefix_problem, topic_problem
from kafkaredis_cli.redis_url import RedisTarget, parse_redis_url
from kafkaredis_cli.secrets import MASK, is_secret_property, mask_properties, mask_url

_HOSTPORT = re.compile(r"^(?:[A-Za-z0-9_]+://)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")
# The secret policy and the name checks, re-exported.
__all__ = [
    "MASK",
    "group_problem",
    "is_secret_property",
    "key_prefix_problem",
    "mask_url",
    "topic_problem",
]
WEEK_S = 7 * 86400.0  # the longest timeout that makes sense (inf and nan are refused)


def _not_c_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return "\x00" in text


def _split_list(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            try:
                return json.loads(text)
            except (ValueError, RecursionError):
                raise ValueError("not a valid JSON list") from None
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class KafkaSettings(BaseModel):
    bootstrap_servers: str = Field(
        "localhost:9092", description="Kafka bootstrap servers, comma-separated host:port"
    )
    topics: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["kafkaredis-events"],
        description="Topics; the first is the default, the timer rotates through all",
    )
    group_id: str = Field("kafkaredis", description="Consumer group of `consume`")
    client_id: str = Field("kafkaredis", description="client.id sent to the broker")
    security_protocol: str | None = Field(None, description="PLAINTEXT, SSL, SASL_PLAINTEXT, …")
    sasl_mechanism: str | None = Field(None, description="PLAIN, SCRAM-SHA-256, …")
    sasl_username: str | None = Field(None, description="SASL user name")
    sasl_password: SecretStr | None = Field(None, description="SASL password (never printed)")
    timeout_s: float = Field(
        5.0,
        gt=0,
        le=WEEK_S,
        allow_inf_nan=False,
        description="Bound on connecting and metadata calls",
    )
    expected_brokers: int | None = Field(
        None,
        ge=1,
        le=100_000,
        description="Brokers the cluster should have (`check` fails with fewer)",
    )
    properties: dict[str, str] = Field(
        default_factory=dict, description="Any librdkafka property (what -X sets)"
    )

    @field_validator("topics", mode="before")
    @classmethod
    def _topics(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("topics")
    @classmethod
    def _topics_not_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one topic is needed")
        for topic in value:
            problem = topic_problem(topic)
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("group_id", "client_id")
    @classmethod
    def _group(cls, value: str) -> str:
        problem = group_problem(value)
        if problem:
            raise ValueError(problem.replace("consumer group id", "name"))
        return value

    @field_validator("bootstrap_servers")
    @classmethod
    def _bootstrap(cls, value: str) -> str:
        servers = [s.strip() for s in value.split(",") if s.strip()]
        if not servers:
            raise ValueError("no bootstrap server given")
        for server in servers:
            match = _HOSTPORT.match(server)
            if not match or not 0 < int(match.group(2)) < 65536:
                raise ValueError(f"{shown(mask_url(server))!r} is not host:port")
        return ",".join(servers)

    @model_validator(mode="after")
    def _librdkafka_can_take_it(self) -> KafkaSettings:
        """librdkafka takes C strings: a name or value that is not UTF-8 crashes
        confluent-kafka (a segfault for a name), a NUL cuts it short."""
        for name, value in self.to_librdkafka().items():
            what = "a property name" if _not_c_text(name) else f"property {name!r}"
            if _not_c_text(name) or _not_c_text(value):
                raise ValueError(f"{what}: not UTF-8 text, or holds a NUL")
            if not name.strip() or not name.isprintable():
                raise ValueError(f"property name {ascii(name)[:60]} is blank or not printable")
        return self

    @property
    def default_topic(self) -> str:
        return self.topics[0]

    def to_librdkafka(self) -> dict[str, str]:
        """librdkafka's dotted configuration; `properties` (-X) win."""
        conf: dict[str, str] = {
            "bootstrap.servers": self.bootstrap_servers,
            "client.id": self.client_id,
            # librdkafka's minimum is 1000 ms; shorter timeouts still bound metadata calls
            "socket.connection.setup.timeout.ms": str(max(1000, int(self.timeout_s * 1000))),
        }
        if self.security_protocol:
            conf["security.protocol"] = self.security_protocol
        if self.sasl_mechanism:
            conf["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username:
            conf["sasl.username"] = self.sasl_username
        if self.sasl_password:
            conf["sasl.password"] = self.sasl_password.get_secret_value()
        conf.update(self.properties)
        return conf

    def masked(self) -> dict[str, Any]:
        data = self.model_dump()
        data["sasl_password"] = MASK if self.sasl_password else None
        # librdkafka redacts sasl.username too: one policy, whatever the setting's name
        data["sasl_username"] = MASK if self.sasl_username else None
        data["properties"] = mask_properties(self.properties)
        return data


RedisMode = Literal["auto", "standalone", "cluster", "sentinel"]


class RedisSettings(BaseModel):
    url: SecretStr = Field(
        SecretStr("redis://localhost:6379/0"),
        description="redis://, rediss://, unix:// or redis+sentinel://HOST:PORT/SERVICE URL; "
        "may hold a password (never printed)",
    )
    mode: RedisMode = Field(
        "auto",
        description="auto (a node with cluster_enabled:1 is used as a cluster), standalone, "
        "cluster or sentinel (the redis+sentinel:// URL)",
    )
    sentinel_password: SecretStr | None = Field(
        None, description="Password of the Sentinels (the URL's is the Redis one)"
    )
    key_prefix: str = Field("kafkaredis", description="Prefix of every key kafkaredis writes")
    ttl_s: int = Field(3600, gt=0, le=2**31, description="TTL of message records, seconds")
    timeout_s: float = Field(
        5.0,
        gt=0,
        le=WEEK_S,
        allow_inf_nan=False,
        description="Bound on connecting, each command, and a write's retries",
    )
    retries: int = Field(2, ge=0, le=100, description="Retries of a failed connection or command")

    @field_validator("url")
    @classmethod
    def _url(cls, value: SecretStr) -> SecretStr:
        parse_redis_url(value.get_secret_value())
        return value

    @field_validator("key_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        problem = key_prefix_problem(value)
        if problem:
            raise ValueError(problem)
        return value.rstrip(":")

    @model_validator(mode="after")
    def _mode_fits_url(self) -> RedisSettings:
        target = self.target()
        if self.mode == "sentinel" and not target.sentinel:
            raise ValueError("mode sentinel needs a redis+sentinel://HOST:PORT/SERVICE URL")
        if target.sentinel and self.mode not in ("auto", "sentinel"):
            raise ValueError(f"a redis+sentinel:// URL cannot be used in mode {self.mode}")
        if target.path is not None and self.mode == "cluster":
            raise ValueError("a cluster is reached by redis://HOST:PORT, not a unix socket")
        if len(target.hosts) > 1 and self.mode == "standalone" and not target.sentinel:
            raise ValueError("mode standalone takes one HOST:PORT, not a list")
        if target.db and self.mode == "cluster":
            raise ValueError("Redis Cluster has database 0 only")
        return self

    def target(self) -> RedisTarget:
        return parse_redis_url(self.url.get_secret_value())

    def masked_url(self) -> str:
        return mask_url(self.url.get_secret_value())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KAFKAREDIS_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    context: str | None = Field(
        None,
        description="The named context in force (docs/contexts.md); '' for none, "
        "whatever the current one is",
    )
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING", description="Log level (logs go to stderr)"
    )
    log_format: Literal["text", "json"] = Field("text", description="text, or json lines")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Options > environment > .env > the named context > defaults."""
        from kafkaredis_cli.context_source import add_context_source

        return add_context_source(
            settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
        )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("context")
    @classmethod
    def _context(cls, value: str | None) -> str | None:
        return value or None

    def masked(self) -> dict[str, Any]:
        return {
            "context": self.context,
            "kafka": self.kafka.masked(),
            "redis": {
                **self.redis.model_dump(),
                "url": self.redis.masked_url(),
                "sentinel_password": MASK if self.redis.sentinel_password else None,
            },
            "log_level": self.log_level,
            "log_format": self.log_format,
        }


def load_settings(
    overrides: dict[str, Any] | None = None, env_file: Path | None = None
) -> Settings:
    """Build the settings, turning validation errors into one ConfigError line."""
    try:
        if env_file is not None:
            if not _is_file(env_file):
                raise ConfigError(f"env file {shown(str(env_file))} does not exist")
            return Settings(_env_file=env_file, **(overrides or {}))
        return Settings(**(overrides or {}))
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
    except SettingsError as exc:  # a value meant as JSON (a list, the properties) is not
        raise ConfigError(
            f"bad setting: {exc}: a KAFKAREDIS_… value read as JSON "
            "(KAFKAREDIS_KAFKA__PROPERTIES, a list) is not valid JSON"
        ) from None
    except RecursionError:
        raise ConfigError("bad setting: a JSON value nested too deeply") from None
    except UnicodeDecodeError:
        where = shown(str(env_file)) if env_file is not None else ".env"
        raise ConfigError(f"env file {where} is not UTF-8 text") from None


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long, a NUL in it
        return False


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming each bad setting, without echoing its value (it may be a secret)."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        location = ".".join(str(p) for p in error["loc"])
        env_name = "KAFKAREDIS_" + "__".join(str(p).upper() for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{location} ({env_name}): {message}")
    return "bad setting: " + "; ".join(problems)
