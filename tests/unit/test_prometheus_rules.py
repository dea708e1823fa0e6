"""The shipped Prometheus rules and Grafana dashboard, checked by the real promtool:
the rules load and their unit tests pass, the compose config loads, every dashboard
expression parses once its template variables are substituted, and the alerts cover
what the canary is for."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from prometheus_client import generate_latest

from kafkaredis_cli.canary.figures import Where
from kafkaredis_cli.canary.metrics import PrometheusSink
from tests.deploy_files import (
    DEPLOY,
    PROMETHEUS_CONFIG,
    RULE_TESTS,
    RULES,
    dashboard,
    dashboard_expressions,
    exposed_names,
    panels,
    rules,
    run_promtool,
    substitute,
    used_metric_names,
)


def test_promtool_checks_the_rules():
    result = run_promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_the_rule_unit_tests_pass():
    result = run_promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_a_broken_rule_test_fails(tmp_path: Path):
    """The rule tests can fail: the same tests with one expected label changed do."""
    text = RULE_TESTS.read_text(encoding="utf-8").replace("../rules/", f"{RULES.parent}/")
    broken = text.replace('broker: "3"', 'broker: "4"', 1)
    assert broken != text
    path = tmp_path / "broken.test.yml"
    path.write_text(broken, encoding="utf-8")
    result = run_promtool("test", "rules", str(path))
    assert result.returncode != 0
    assert "KafkaredisCanaryBrokerMissing" in result.stdout + result.stderr


def test_promtool_checks_the_compose_prometheus_config():
    result = run_promtool("check", "config", str(PROMETHEUS_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["kafkaredis-canary"]["static_configs"][0]["targets"] == ["canary:9404"]


def test_every_alert_has_for_severity_and_a_summary_naming_where():
    alerts = {rule["alert"]: rule for rule in rules() if "alert" in rule}
    for name, rule in alerts.items():
        assert rule.get("for"), f"{name} has no for:"
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        summary = rule["annotations"]["summary"]
        if name != "KafkaredisCanaryAbsent":  # absent(): no series, so no labels to name
            assert "$labels.instance" in summary or "$labels.endpoint" in summary, name
    by_topic = ["KafkaredisCanaryLoss", "KafkaredisCanaryDuplicates", "KafkaredisCanaryGaps"]
    for name in by_topic:
        summary = alerts[name]["annotations"]["summary"]
        assert "$labels.topic" in summary and "$labels.partition" in summary, name
    for name in ["KafkaredisCanaryBrokerNotVerified", "KafkaredisCanaryBrokerMissing"]:
        assert "$labels.broker" in alerts[name]["annotations"]["summary"]
    covered = {
        "loss": "KafkaredisCanaryLoss",
        "latency": "KafkaredisCanaryRoundTripSlow",
        "broker": "KafkaredisCanaryBrokerNotVerified",
        "canary down": "KafkaredisCanaryDown",
        "canary absent": "KafkaredisCanaryAbsent",
        "certificate": "KafkaredisCanaryCertificateExpiring",
    }
    assert set(covered.values()) <= set(alerts)
    assert "broker_last_success" in alerts["KafkaredisCanaryBrokerNotVerified"]["expr"]
    assert "absent(" in alerts["KafkaredisCanaryAbsent"]["expr"]


def test_the_dashboard_has_six_query_panels_and_its_variables():
    board = dashboard()
    queried = [p for p in panels(board) if p.get("targets")]
    assert len(queried) >= 6
    assert {v["name"] for v in board["templating"]["list"]} >= {"instance", "topic"}
    provisioned = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text(encoding="utf-8")
    )
    uid = provisioned["datasources"][0]["uid"]
    assert {p["datasource"]["uid"] for p in queried} == {uid}
    titles = " ".join(p["title"].lower() for p in queried)
    for needle in ("loss", "round trip", "delivery", "broker", "partition", "duplicates"):
        assert needle in titles, needle
    assert "gaps" in titles and "certificate" in titles


def test_every_dashboard_expression_parses(tmp_path: Path):
    """Grafana's variables substituted, each expression becomes a recording rule that
    `promtool check rules` parses; a broken one fails with its name."""
    exprs = [substitute(e) for e in dashboard_expressions(dashboard())]
    assert len(exprs) >= 6 and not any("$" in e for e in exprs), exprs
    groups = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:expr_{i}", "expr": e} for i, e in enumerate(exprs)
                ],
            }
        ]
    }
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(json.dumps(groups), encoding="utf-8")
    result = run_promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    groups["groups"][0]["rules"].append({"record": "dashboard:broken", "expr": "sum(rate(x[5m])"})
    path.write_text(json.dumps(groups), encoding="utf-8")
    assert run_promtool("check", "rules", str(path)).returncode != 0


def test_the_exporters_families_cover_every_name_the_rules_and_dashboard_use():
    """The quick version of the integration test's check on a real scrape."""
    sink = PrometheusSink("me")
    sink.prepare(Where("t", 0, 1))
    text = generate_latest(sink.registry).decode()
    used = used_metric_names()
    assert "kafkaredis_canary_broker_last_success_timestamp_seconds" in used
    assert "kafkaredis_canary_certificate_expiry_timestamp_seconds" in used
    missing = {name: where for name, where in used.items() if name not in exposed_names(text)}
    assert not missing, f"used but not exported: {missing}"
    result = run_promtool("check", "metrics", stdin=text)
    assert result.returncode == 0, result.stdout + result.stderr
