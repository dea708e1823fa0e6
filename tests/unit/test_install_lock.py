"""The install is locked: uv.lock pins every dependency that pyproject.toml names, and
scripts/setup installs from it exactly; the README stays short."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def test_the_lock_pins_every_runtime_and_dev_dependency_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p for p in lock["package"]}
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    for requirement in wanted:
        package = locked.get(_name(requirement))
        assert package is not None, f"{requirement} is not in uv.lock"
        assert package["version"], requirement
        files = package.get("wheels", []) + ([package["sdist"]] if "sdist" in package else [])
        assert files and all(f["hash"].startswith("sha256:") for f in files), requirement


def test_setup_installs_exactly_from_the_lock_with_a_pinned_uv() -> None:
    setup = (ROOT / "scripts" / "setup").read_text()
    assert re.search(r"^UV_VERSION=\d+\.\d+\.\d+$", setup, re.M)
    assert "sync --quiet --locked --compile-bytecode --extra dev" in setup
    assert "pip install -e" not in setup


def test_the_readme_is_read_in_five_minutes() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) < 300
