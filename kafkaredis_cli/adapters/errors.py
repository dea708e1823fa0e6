"""Client exceptions -> the project's errors (one place: the adapters raise these; the
behaviour MapClientErrors in behaviours.py maps a client exception that escaped one)."""

from __future__ import annotations

from typing import Any

from kafkaredis_cli.errors import ConfigError, KafkaError, KafkaRedisError, RedisError

_KAFKA_HINTS = {
    "_TRANSPORT": "broker unreachable",
    "_ALL_BROKERS_DOWN": "broker unreachable",
    "_TIMED_OUT": "timed out waiting for the broker",
    "_MSG_TIMED_OUT": "no delivery report in time (outcome unknown: possibly on the broker)",
    "UNKNOWN_TOPIC_OR_PART": "unknown topic or partition",
    "_UNKNOWN_TOPIC": "unknown topic",
    "_UNKNOWN_PARTITION": "unknown partition",
    "MSG_SIZE_TOO_LARGE": "message larger than the allowed maximum",
    "RECORD_LIST_TOO_LARGE": "message larger than the allowed maximum",
    "TOPIC_AUTHORIZATION_FAILED": "not authorised for this topic",
    "SASL_AUTHENTICATION_FAILED": "authentication failed",
    "_AUTHENTICATION": "authentication failed",
}


# A reader that never commits (a read-back, the canary's independent consumer) still needs
# a group.id for confluent-kafka, so librdkafka looks up that group's coordinator; a
# cluster with ACLs refuses that lookup with this error while assign() and fetch go on
# working: harmless for such a reader (a debug line, once), a failure only for a group
# member (`consume -g`, `groups`).
GROUP_REFUSED = "GROUP_AUTHORIZATION_FAILED"


class GroupRefusalNote:
    """Logs the harmless group refusal of a reader once (at debug level)."""

    def __init__(self) -> None:
        self.seen = False

    def note(self, logger: Any, who: str, detail: str) -> None:
        if not self.seen:
            self.seen = True
            logger.debug("%s: %s (harmless: it reads by partition and offset, commits nothing)",
                         who, detail)  # fmt: skip


# A failed delivery report says the message is *not* on the broker only for these:
# the broker refused it, or it never left this client. Any other error (above all
# _MSG_TIMED_OUT, a transport failure or a request timeout after the send) may have
# come after the broker wrote it: librdkafka's rd_kafka_message_status() calls that
# POSSIBLY_PERSISTED, which confluent-kafka does not expose, so the error code decides.
NOT_PERSISTED = frozenset(
    {
        "_PURGE_QUEUE",
        "_UNKNOWN_TOPIC",
        "_UNKNOWN_PARTITION",
        "_INVALID_ARG",
        "_MSG_SIZE_TOO_LARGE",
        "_KEY_SERIALIZATION",
        "_VALUE_SERIALIZATION",
        "_QUEUE_FULL",
        "UNKNOWN_TOPIC_OR_PART",
        "MSG_SIZE_TOO_LARGE",
        "RECORD_LIST_TOO_LARGE",
        "INVALID_MSG",
        "INVALID_RECORD",
        "CORRUPT_MESSAGE",
        "INVALID_REQUIRED_ACKS",
        "NOT_ENOUGH_REPLICAS",  # refused before the append (the -after-append one is not)
        "TOPIC_AUTHORIZATION_FAILED",
        "CLUSTER_AUTHORIZATION_FAILED",
        "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
        "POLICY_VIOLATION",
        "UNSUPPORTED_FOR_MESSAGE_FORMAT",
        "INVALID_TOPIC_EXCEPTION",
    }
)


def possibly_persisted(error_name: str | None) -> bool:
    """Could a message whose delivery failed with this error be on the broker anyway?"""
    return error_name is not None and error_name not in NOT_PERSISTED


def kafka_error_name(error: Any) -> str:
    """librdkafka's error name of a confluent_kafka.KafkaError (or 'UNKNOWN')."""
    try:
        return str(error.name())
    except Exception:
        return "UNKNOWN"


def describe_kafka_error(error: Any) -> str:
    name = kafka_error_name(error)
    try:
        text = str(error.str())
    except Exception:
        text = str(error)
    hint = _KAFKA_HINTS.get(name)
    return f"{hint}: {text} [{name}]" if hint else f"{text} [{name}]"


def from_kafka_exception(exc: BaseException, context: str) -> KafkaRedisError:
    error = exc.args[0] if exc.args else None
    name = kafka_error_name(error) if error is not None else "UNKNOWN"
    if name == "_INVALID_ARG":
        text = error.str() if error is not None else str(exc)
        return ConfigError(f"Kafka configuration: {text}", code=name)
    detail = describe_kafka_error(error) if error is not None else str(exc)
    return KafkaError(f"{context}: {detail}", code=name)


_NO_AUTH_SIGNS = ("NOAUTH", "Authentication required", "client already authenticated")


def from_redis_exception(exc: BaseException, where: str, keys: str | None = None) -> RedisError:
    """The project's error for a redis-py exception; `keys` is the pattern of the keys the
    command touched (named when an ACL refuses them: NOPERM)."""
    import redis.exceptions as rex

    if isinstance(exc, rex.NoPermissionError):
        detail = _first_line(exc)
        lacking = f"keys {keys}" if keys and "key" in detail else "what the command needs"
        return RedisError(
            f"Redis at {where} refused by ACL (NOPERM): the user has no rights on {lacking} "
            f"({detail})",
            code="NOPERM",
        )
    # redis-py raises AuthenticationError for "no password given" too (NOAUTH, or HELLO
    # refused before AUTH): tell that apart from a wrong password.
    if isinstance(exc, rex.AuthenticationError | rex.ResponseError) and any(
        sign in str(exc) for sign in _NO_AUTH_SIGNS
    ):
        return RedisError(f"Redis at {where} needs a password (NOAUTH)", code="NOAUTH")
    if isinstance(exc, rex.AuthenticationError | rex.AuthenticationWrongNumberOfArgsError):
        return RedisError(f"Redis at {where} refused the credentials (AUTH failed)", code="AUTH")
    if isinstance(exc, rex.TimeoutError):
        return RedisError(f"Redis at {where} timed out", code="TIMEOUT")
    if isinstance(exc, rex.ConnectionError):
        return RedisError(f"Redis at {where} unreachable: {_first_line(exc)}", code="CONNECTION")
    return RedisError(f"Redis at {where}: {_first_line(exc)}", code=type(exc).__name__)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
