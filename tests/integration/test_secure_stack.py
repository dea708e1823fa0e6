"""The secure profile of scripts/stack refuses what a secured production cluster refuses
(checked with confluent-kafka and redis-py, not with kafkaredis)."""

from __future__ import annotations

import ssl
import subprocess
import uuid

import pytest
import redis
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient

from tests.secure import SecureStack

pytestmark = pytest.mark.integration


def _produce(conf: dict[str, str], topic: str) -> str | None:
    """None if delivered, else the error's name."""
    errors: list[str] = []
    producer = Producer({**conf, "message.timeout.ms": "8000"})
    producer.produce(topic, b"x", on_delivery=lambda err, _m: err and errors.append(err.name()))
    producer.flush(10)
    return errors[0] if errors else None


@pytest.mark.parametrize("user", ["kr-user", "mtls", "admin"])
def test_users_produce_to_kr_topics(secure_stack: SecureStack, user: str) -> None:
    assert _produce(secure_stack.kafka_conf(user), f"kr-stack-{uuid.uuid4().hex[:8]}") is None


def test_limited_user_is_refused_other_topics(secure_stack: SecureStack) -> None:
    error = _produce(secure_stack.kafka_conf("kr-user"), f"other-{uuid.uuid4().hex[:8]}")
    assert error == "TOPIC_AUTHORIZATION_FAILED"


def test_wrong_password_and_untrusted_ca_are_refused(secure_stack: SecureStack) -> None:
    wrong = {**secure_stack.kafka_conf("kr-user"), "sasl.password": "wrong"}
    untrusted = {
        **secure_stack.kafka_conf("admin"),
        "ssl.ca.location": str(secure_stack.untrusted_ca),
    }
    no_cert = {"bootstrap.servers": secure_stack.mtls_bootstrap, "security.protocol": "SSL",
               "ssl.ca.location": str(secure_stack.ca)}  # fmt: skip
    for conf in (wrong, untrusted, no_cert):
        with pytest.raises(KafkaException):
            AdminClient(conf).list_topics(timeout=3)


def test_redis_is_tls_only_with_acl_users(secure_stack: SecureStack) -> None:
    with secure_stack.redis_client("kr-user") as client:
        assert client.set("kr:stack-test", "1")
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.set("other:stack-test", "1")
    tls = {"ssl": True, "ssl_ca_certs": str(secure_stack.ca)}
    anonymous = redis.Redis(port=secure_stack.redis_port, socket_timeout=3, **tls)
    with anonymous, pytest.raises(redis.exceptions.AuthenticationError):
        anonymous.get("kr:stack-test")  # the default user is off
    plain = redis.Redis(port=secure_stack.redis_port, socket_timeout=3)
    with plain, pytest.raises(redis.exceptions.ConnectionError):
        plain.ping()


def test_expiring_endpoint_expires_in_3_days(secure_stack: SecureStack) -> None:
    pem = ssl.get_server_certificate(("127.0.0.1", secure_stack.expiring_port))

    def expires_within(days: int) -> bool:  # openssl x509 -checkend: exit 1 if it does
        check = ["openssl", "x509", "-noout", "-checkend", str(days * 86400)]
        return subprocess.run(check, input=pem, text=True, capture_output=True).returncode == 1

    assert expires_within(3) and not expires_within(2)
    with secure_stack.redis_client("kr-user") as client:
        client.connection_pool.connection_kwargs["port"] = secure_stack.expiring_port
        assert client.ping()
