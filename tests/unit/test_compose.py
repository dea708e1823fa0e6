"""Static checks for the developer ``docker-compose.yml`` (no Docker needed)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"

EXPECTED_SERVICES = {
    "kafka",
    "redis",
    "kafka-ui",
    "redis-insight",
    "canary",
    "prometheus",
    "grafana",
}


@pytest.fixture(scope="module")
def compose_text() -> str:
    assert COMPOSE_FILE.is_file(), f"missing {COMPOSE_FILE}"
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    data = yaml.safe_load(compose_text)
    assert isinstance(data, dict), "compose file must be a YAML mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    svc = compose.get("services")
    assert isinstance(svc, dict), "compose file needs a 'services' mapping"
    return svc


def env_of(service: dict[str, Any]) -> dict[str, str]:
    """Return a service's environment as a dict, whether written as mapping or list."""
    env = service.get("environment") or {}
    if isinstance(env, dict):
        return {str(k): "" if v is None else str(v) for k, v in env.items()}
    result: dict[str, str] = {}
    for item in env:
        key, _, value = str(item).partition("=")
        result[key] = value
    return result


def published_ports(service: dict[str, Any]) -> set[int]:
    """Host-side ports of a service (short "[ip:]host:container[/proto]" or long syntax)."""
    ports: set[int] = set()
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            if entry.get("published") is not None:
                ports.add(int(entry["published"]))
            continue
        parts = str(entry).split("/")[0].split(":")
        if len(parts) >= 2:  # a bare "9092" publishes nothing fixed
            ports.add(int(parts[-2]))
    return ports


def parse_listeners(value: str) -> dict[str, tuple[str, int]]:
    """``NAME://host:port,...`` -> {NAME: (host, port)}."""
    listeners: dict[str, tuple[str, int]] = {}
    for item in filter(None, (p.strip() for p in value.split(","))):
        match = re.fullmatch(r"([A-Za-z0-9_\-]+)://([^:]*):(\d+)", item)
        assert match, f"unparseable listener {item!r}"
        name, host, port = match.groups()
        listeners[name.upper()] = (host, int(port))
    return listeners


def internal_listener(kafka_env: dict[str, str]) -> tuple[str, int]:
    """The advertised listener other containers use (host ``kafka``)."""
    advertised = parse_listeners(kafka_env.get("KAFKA_ADVERTISED_LISTENERS", ""))
    internal = [hp for hp in advertised.values() if hp[0] == "kafka"]
    assert len(internal) == 1, f"expected one kafka:<port> listener, got {advertised}"
    return internal[0]


def test_all_services_present(services: dict[str, Any]) -> None:
    missing = EXPECTED_SERVICES - set(services)
    assert not missing, f"missing services: {sorted(missing)}"


def stack_kafka_version() -> str:
    """The Kafka release scripts/stack runs (DEFAULT_KAFKA_VERSION in scripts/)."""
    for path in sorted((REPO_ROOT / "scripts").rglob("*")):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            match = re.search(r'DEFAULT_KAFKA_VERSION\s*=\s*"([^"]+)"', text)
            if match:
                return match.group(1)
    raise AssertionError("DEFAULT_KAFKA_VERSION not found under scripts/")


def test_kafka_image_is_the_stack_release(services: dict[str, Any]) -> None:
    assert services["kafka"]["image"] == f"apache/kafka:{stack_kafka_version()}"


@pytest.mark.parametrize(
    ("service", "repository"),
    [
        ("redis", "redis"),
        ("kafka-ui", "kafbat/kafka-ui"),
        ("redis-insight", "redis/redisinsight"),
        ("prometheus", "prom/prometheus"),
        ("grafana", "grafana/grafana"),
    ],
)
def test_images_are_pinned(services: dict[str, Any], service: str, repository: str) -> None:
    image, _, tag = services[service]["image"].partition(":")
    assert image == repository
    assert re.match(r"v?\d+\.\d+", tag), f"{service}: tag {tag!r} is not a pinned version"


def test_redis_is_7_4_or_8(services: dict[str, Any]) -> None:
    tag = services["redis"]["image"].partition(":")[2]
    assert re.match(r"(7\.4|8)(\.|-|$)", tag), tag


@pytest.mark.parametrize("service", sorted(EXPECTED_SERVICES))
def test_ports_bound_to_loopback_only(services: dict[str, Any], service: str) -> None:
    for entry in services[service].get("ports") or []:
        host_ip = entry.get("host_ip") if isinstance(entry, dict) else str(entry).split(":")[0]
        assert host_ip == "127.0.0.1", f"{service} publishes {entry!r} beyond loopback"


@pytest.mark.parametrize(
    ("service", "port"),
    [
        ("kafka", 9092),
        ("redis", 6379),
        ("kafka-ui", 8080),
        ("redis-insight", 8081),
        ("canary", 9404),
        ("prometheus", 9090),
        ("grafana", 3000),
    ],
)
def test_published_ports(services: dict[str, Any], service: str, port: int) -> None:
    assert port in published_ports(services[service])


def test_kafka_is_kraft_combined_node(services: dict[str, Any], compose_text: str) -> None:
    env = env_of(services["kafka"])
    roles = {r.strip() for r in env.get("KAFKA_PROCESS_ROLES", "").split(",")}
    assert {"broker", "controller"} <= roles
    assert env.get("KAFKA_NODE_ID") == "1"
    assert env.get("CLUSTER_ID"), "a fixed CLUSTER_ID is expected"
    assert "zookeeper" not in compose_text.lower()


def test_kafka_listener_config_is_consistent(services: dict[str, Any]) -> None:
    env = env_of(services["kafka"])
    listeners = parse_listeners(env["KAFKA_LISTENERS"])
    advertised = parse_listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    protocol_map = dict(
        item.split(":", 1) for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    inter_broker = env["KAFKA_INTER_BROKER_LISTENER_NAME"]

    for name in set(listeners) | set(advertised) | {controller, inter_broker}:
        assert name in protocol_map, f"{name} missing from security protocol map"
    for name, (_, port) in advertised.items():
        assert name in listeners and listeners[name][1] == port, f"{name} not bound"
    assert controller in listeners and controller not in advertised
    assert inter_broker in advertised

    voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert voters == f"{env['KAFKA_NODE_ID']}@kafka:{listeners[controller][1]}"


def test_kafka_advertises_host_and_container_listeners(services: dict[str, Any]) -> None:
    env = env_of(services["kafka"])
    advertised = parse_listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    assert ("localhost", 9092) in advertised.values()
    host, port = internal_listener(env)
    assert host == "kafka" and port != 9092
    # The internal listener must not collide with the host-published one.
    assert port not in published_ports(services["kafka"])


def test_kafka_single_node_replication_settings(services: dict[str, Any]) -> None:
    env = env_of(services["kafka"])
    assert env.get("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR") == "1"
    assert env.get("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR") == "1"
    assert env.get("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS") == "0"


def test_kafka_ui_uses_internal_listener(services: dict[str, Any]) -> None:
    kafka_env = env_of(services["kafka"])
    ui_env = env_of(services["kafka-ui"])
    assert ui_env.get("KAFKA_CLUSTERS_0_NAME")
    bootstrap = ui_env.get("KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS", "")
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    assert host == "kafka"
    assert port.isdigit() and int(port) == internal_listener(kafka_env)[1]


@pytest.mark.parametrize(
    ("service", "needle"),
    [("kafka", "kafka-broker-api-versions.sh"), ("redis", "redis-cli")],
)
def test_healthchecks(services: dict[str, Any], service: str, needle: str) -> None:
    healthcheck = services[service].get("healthcheck")
    assert isinstance(healthcheck, dict), f"{service} needs a healthcheck"
    assert not healthcheck.get("disable", False)
    test = healthcheck.get("test")
    command = " ".join(test) if isinstance(test, list) else str(test or "")
    assert command and command.split()[0] != "NONE"
    assert needle in command


@pytest.mark.parametrize(
    ("service", "dependency"),
    [("kafka-ui", "kafka"), ("redis-insight", "redis")],
)
def test_uis_wait_for_healthy_backends(
    services: dict[str, Any], service: str, dependency: str
) -> None:
    depends_on = services[service].get("depends_on")
    assert isinstance(depends_on, dict), f"{service}.depends_on must use the long form"
    assert depends_on.get(dependency, {}).get("condition") == "service_healthy"


def test_header_documents_cli_settings(compose_text: str) -> None:
    header = "".join(
        line for line in compose_text.splitlines(keepends=True) if line.startswith("#")
    )
    assert "docker compose up -d" in header
    assert "KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS=localhost:9092" in header
    assert "KAFKAREDIS_REDIS__URL=redis://localhost:6379/0" in header


# -- the canary, Prometheus and Grafana (issue 21) ---------------------------------------


def volume_sources(service: dict[str, Any]) -> list[Path]:
    """Host paths of a service's bind mounts (short "src:dst[:ro]" or long syntax)."""
    sources = []
    for volume in service.get("volumes") or []:
        source = volume.get("source") if isinstance(volume, dict) else str(volume).split(":")[0]
        assert source and source.startswith("./"), f"{volume!r}: bind-mount repository files"
        sources.append(REPO_ROOT / source)
    return sources


def test_every_mounted_or_built_file_exists(services: dict[str, Any]) -> None:
    mounted = [path for svc in services.values() for path in volume_sources(svc)]
    assert mounted, "prometheus and grafana mount their configuration"
    for path in mounted:
        assert path.exists(), f"compose mounts {path}, which is missing"
    build = services["canary"]["build"]
    context = REPO_ROOT / build["context"]
    assert (context / build.get("dockerfile", "Dockerfile")).is_file()
    dockerfile = (context / build.get("dockerfile", "Dockerfile")).read_text(encoding="utf-8")
    for line in dockerfile.splitlines():
        if line.startswith("COPY") and "--from=" not in line:
            for source in line.split()[1:-1]:
                assert (context / source).exists(), f"the Dockerfile copies {source}: missing"
    assert "uv.lock" in dockerfile and "--require-hashes" in dockerfile
    ignored = (context / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".tools", ".stack", ".git"} <= set(ignored)


def test_dockerfile_base_images_are_pinned() -> None:
    text = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    images = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert images
    for image in images:
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*", image), image


def test_the_canary_runs_kafkaredis_timer_with_options_timer_accepts(
    services: dict[str, Any],
) -> None:
    canary = services["canary"]
    command = [str(part) for part in canary["command"]]
    assert command[:5] == ["timer", "--interval", "5", "--metrics-port", "9404"]
    help_page = subprocess.run(
        [sys.executable, "-m", "kafkaredis_cli", "timer", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        check=True,
    ).stdout
    accepted = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", help_page))
    assert {"--interval", "--metrics-port", "--metrics-host"} <= accepted
    options = [part for part in command[1:] if part.startswith("-")]
    assert set(options) <= accepted, f"not options of kafkaredis timer: {set(options) - accepted}"
    values = dict(zip(command[1::2], command[2::2], strict=True))  # --option value pairs
    assert float(values["--interval"]) == 5 and 0 < int(values["--metrics-port"]) < 65536
    assert values["--metrics-host"] == "0.0.0.0"  # reachable by prometheus
    env = env_of(canary)
    kafka_env = env_of(services["kafka"])
    host, port = env["KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS"].rsplit(":", 1)
    assert (host, int(port)) == internal_listener(kafka_env)
    assert env["KAFKAREDIS_REDIS__URL"] == "redis://redis:6379/0"
    assert env["KAFKAREDIS_KAFKA__TOPICS"]
    assert "/healthz" in " ".join(canary["healthcheck"]["test"])
    assert canary["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_prometheus_scrapes_the_canary_and_loads_the_rules(services: dict[str, Any]) -> None:
    prometheus = services["prometheus"]
    config_path = REPO_ROOT / "deploy/prometheus/prometheus.yml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    target = config["scrape_configs"][0]["static_configs"][0]["targets"][0]
    canary_port = services["canary"]["command"][services["canary"]["command"].index(
        "--metrics-port") + 1]  # fmt: skip
    assert target == f"canary:{canary_port}"
    mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in prometheus["volumes"]}
    assert mounts["/etc/prometheus/prometheus.yml"] == "./deploy/prometheus/prometheus.yml"
    rules_dir = mounts["/etc/prometheus/rules"]
    assert config["rule_files"] == ["rules/*.yml"]
    assert list((REPO_ROOT / rules_dir).glob("*.yml")), "no rule file would load"
    promtool_version = re.search(
        r"PROMTOOL_VERSION=v0\.(\d+)\.(\d+)",
        (REPO_ROOT / "scripts" / "tools").read_text(encoding="utf-8"),
    )
    assert promtool_version
    minor, patch = promtool_version.groups()
    assert prometheus["image"] == f"prom/prometheus:v{int(minor) // 100}.{int(minor) % 100}.{patch}"


def test_grafana_is_provisioned_from_the_repository_without_anonymous_access(
    services: dict[str, Any],
) -> None:
    grafana = services["grafana"]
    env = env_of(grafana)
    assert env.get("GF_AUTH_ANONYMOUS_ENABLED") == "false"
    mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in grafana["volumes"]}
    provisioning = REPO_ROOT / mounts["/etc/grafana/provisioning"]
    dashboards_dir = mounts["/var/lib/grafana/dashboards"]
    providers = yaml.safe_load(
        (provisioning / "dashboards" / "kafkaredis.yml").read_text(encoding="utf-8")
    )
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    assert list((REPO_ROOT / dashboards_dir).glob("*.json"))
    datasources = yaml.safe_load(
        (provisioning / "datasources" / "prometheus.yml").read_text(encoding="utf-8")
    )
    assert datasources["datasources"][0]["url"] == "http://prometheus:9090"
    home = env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith("/var/lib/grafana/dashboards/")
    assert (REPO_ROOT / dashboards_dir / home.rsplit("/", 1)[1]).is_file()


def compose_config(path: Path) -> subprocess.CompletedProcess[str]:
    from tests.deploy_files import go_tool

    return subprocess.run(
        [go_tool("docker-compose"), "-f", str(path), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=path.parent,
        env={k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")},
        check=False,
    )


def test_docker_compose_config_validates_the_file() -> None:
    """Docker Compose itself (v5, built by scripts/tools) loads the file: schema, every
    service reference, interpolation; no engine needed."""
    result = compose_config(COMPOSE_FILE)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        (
            "    image: prom/prometheus:",
            "    bogus_key: 1\n    image: prom/prometheus:",
            "bogus_key",
        ),
        ("      - canary\n", "      - no-such-service\n", "no-such-service"),
    ],
)
def test_docker_compose_config_rejects_a_broken_copy(
    compose_text: str, tmp_path: Path, old: str, new: str, error: str
) -> None:
    assert old in compose_text
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(compose_text.replace(old, new, 1), encoding="utf-8")
    result = compose_config(broken)
    assert result.returncode != 0
    assert error in result.stderr
