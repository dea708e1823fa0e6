"""A non-editable install: build the wheel, install it into a fresh venv, run it."""

from __future__ import annotations

import os
import subprocess
import venv
import zipfile
from pathlib import Path

import pytest

from kafkaredis_cli import __version__
from tests.conftest import ROOT, Services

pytestmark = pytest.mark.slow


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, env=env
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # The venv comes from uv.lock (no pip in it): the wheel is built with set-up's uv.
    uv = ROOT / ".tools" / "uv" / "bin" / "uv"
    built = run(uv, "build", "--wheel", "--quiet", "--out-dir", out, ROOT)
    assert built.returncode == 0, built.stderr
    (path,) = out.glob("kafkaredis-*.whl")
    return path


def test_wheel_carries_version_license_and_classifiers(wheel: Path) -> None:
    assert wheel.name.startswith(f"kafkaredis-{__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(metadata_name).decode()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    assert "kafkaredis_cli/py.typed" in names
    assert f"Version: {__version__}" in metadata
    assert "License-Expression: MIT" in metadata
    assert "Classifier: Environment :: Console" in metadata


def test_installed_wheel_runs_version_and_a_real_check(
    wheel: Path, tmp_path: Path, services: Services, env: dict[str, str]
) -> None:
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    installed = run(python, "-m", "pip", "install", "-q", wheel)
    assert installed.returncode == 0, installed.stderr
    kafkaredis = target / "bin" / "kafkaredis"

    version = run(kafkaredis, "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.splitlines()[0] == f"kafkaredis {__version__}"
    # The installed copy runs from the venv, not from this checkout.
    where = run(python, "-c", "import kafkaredis_cli; print(kafkaredis_cli.__file__)")
    assert str(target) in where.stdout, where.stdout

    check = run(kafkaredis, "check", "--json", env={**os.environ, **env})
    assert check.returncode == 0, (check.stdout, check.stderr)
    assert '"ok":true' in check.stdout.replace(" ", "")
