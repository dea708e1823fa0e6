"""The shipped monitoring files (deploy/) and the real promtool, for the tests that
check them: the rules, their unit tests, the dashboard's expressions, a real scrape."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "rules" / "kafkaredis-canary.yml"
RULE_TESTS = DEPLOY / "prometheus" / "tests" / "kafkaredis-canary.test.yml"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "kafkaredis-canary.json"

# A metric name of the canary, not part of a recording rule's name (level:metric:ops).
CANARY_NAME = re.compile(r"(?<![\w:])kafkaredis_canary_\w+(?![\w:])")
# What Grafana substitutes before it sends a query; the test does the same.
TEMPLATE_VALUES = {
    "$__rate_interval": "1m",
    "$__interval": "30s",
    "$__range": "1h",
    "$instance": ".*",
    "$topic": ".*",
}


def go_tool(name: str) -> str:
    """A tool scripts/setup builds into .tools/bin (scripts/tools), or one on PATH.
    Missing: the test fails in CI (CI=true), and is skipped elsewhere with how to get it."""
    built = ROOT / ".tools" / "bin" / name
    found = str(built) if built.exists() else shutil.which(name)
    if found is None:
        message = f"{name} is missing: scripts/setup builds it into .tools/bin"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def promtool() -> str:
    return go_tool("promtool")


def run_promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def rules() -> list[dict[str, Any]]:
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in data["groups"] for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for panel in board["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))  # a collapsed row keeps its panels
    return found


def dashboard_expressions(board: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in panels(board) for t in p.get("targets", []) if t.get("expr")]
    for variable in board["templating"]["list"]:
        query = variable.get("query")
        text = query.get("query") if isinstance(query, dict) else query
        match = re.fullmatch(r"label_values\((.+),\s*\w+\)", text or "")
        if match:  # label_values(<selector>, label): the selector is PromQL
            exprs.append(match.group(1))
    return exprs


def substitute(expr: str) -> str:
    for name in sorted(TEMPLATE_VALUES, key=len, reverse=True):
        expr = expr.replace(name, TEMPLATE_VALUES[name])
        expr = expr.replace("${" + name[1:] + "}", TEMPLATE_VALUES[name])
    return expr


def used_metric_names() -> dict[str, set[str]]:
    """Every kafkaredis_canary_* name in the rules and the dashboard -> where it is used."""
    used: dict[str, set[str]] = {}
    for rule in rules():
        for name in CANARY_NAME.findall(rule["expr"]):
            used.setdefault(name, set()).add(rule.get("alert") or rule["record"])
    for expr in dashboard_expressions(dashboard()):
        for name in CANARY_NAME.findall(expr):
            used.setdefault(name, set()).add("dashboard")
    return used


def exposed_names(exposition: str) -> set[str]:
    """The series names a scrape can hold: every family (# TYPE), with the suffixes of
    its type (a labelled gauge with no sample yet still declares its family)."""
    names: set[str] = set()
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_sum", "_count"),
        "summary": ("_sum", "_count"),
        "info": ("_info",),
    }
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(maxsplit=3)
            names.add(family)
            names.update(family + suffix for suffix in suffixes.get(kind, ()))
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names
