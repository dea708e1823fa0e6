"""Prerequisites: java 17+, redis-server and redis-cli, and the Kafka jars (fetched with
Maven once, then cached)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from stacklib.layout import StackError, say
from stacklib.processes import LOG_TAIL, locked

REPO = Path(__file__).resolve().parents[2]
POM = REPO / "scripts" / "kafka-pom.xml"
INSTALL_JAVA = "apt-get install -y openjdk-17-jre-headless maven"
INSTALL_REDIS = "apt-get install -y redis-server"


def java_binary() -> str:
    java_home = os.environ.get("JAVA_HOME")
    candidates = [str(Path(java_home) / "bin" / "java")] if java_home else []
    candidates.append(shutil.which("java") or "")
    for cand in candidates:
        if cand and os.access(cand, os.X_OK):
            break
    else:
        raise StackError(f"java (17+) not found; install it: {INSTALL_JAVA}", code=2)
    out = subprocess.run([cand, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):
        major = int(match.group(2))
    if major < 17:
        raise StackError(
            f"java 17+ needed, {cand} is {major or 'unknown'}; install it: {INSTALL_JAVA}", code=2
        )
    return cand


def kafka_client() -> None:
    """confluent-kafka, which the Kafka probes use (the project's .venv has it)."""
    try:
        import confluent_kafka  # noqa: F401
    except ImportError:
        raise StackError(
            "confluent-kafka is missing: run scripts/setup (it builds .venv)", code=2
        ) from None


def redis_binary(name: str = "redis-server") -> str:
    binary = shutil.which(name)
    if not binary:
        raise StackError(f"{name} not found; install it: {INSTALL_REDIS}", code=2)
    return binary


def cache_root() -> Path:
    if os.environ.get("KAFKAREDIS_CACHE_DIR"):
        return Path(os.environ["KAFKAREDIS_CACHE_DIR"])
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "kafkaredis"


def kafka_libs(version: str) -> Path:
    """The cached jar directory for `version`, resolved with Maven on first use."""
    if not re.fullmatch(r"[0-9A-Za-z.\-]+", version):
        raise StackError(f"bad Kafka version {version!r}", code=2)
    home = cache_root() / f"kafka-{version}"
    libs = home / "libs"
    marker = f"kafka_2.13-{version}.jar"
    if (libs / marker).is_file():
        say(f"using cached Kafka jars at {libs}")
        return libs
    home.mkdir(parents=True, exist_ok=True)
    with locked(home / ".lock"):
        if (libs / marker).is_file():  # another process just downloaded them
            say(f"using cached Kafka jars at {libs}")
            return libs
        mvn = shutil.which("mvn")
        if not mvn:
            raise StackError(
                f"mvn not found (needed once to fetch the Kafka jars); install it: {INSTALL_JAVA}",
                code=2,
            )
        for stale in home.glob("libs.tmp.*"):  # left by a killed download
            shutil.rmtree(stale, ignore_errors=True)
        say(f"fetching Kafka {version} jars from Maven Central into {libs} (one time) ...")
        started = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix="libs.tmp.", dir=home))
        try:
            cmd = [
                mvn,
                "-B",
                "-q",
                "-Dstyle.color=never",
                "-f",
                str(POM),
                f"-Dkafka.version={version}",
                "dependency:copy-dependencies",
                f"-DoutputDirectory={tmp}",
                "-DincludeScope=runtime",
            ]
            res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            if res.returncode != 0 or not (tmp / marker).is_file():
                lines = (res.stdout + res.stderr).splitlines()[-LOG_TAIL:]
                raise StackError(
                    f"could not fetch Kafka {version} jars with Maven "
                    f"(exit {res.returncode}); is org.apache.kafka:kafka_2.13:{version} "
                    "on Maven Central?",
                    detail="\n".join(lines),
                )
            if libs.exists():  # a broken leftover (no marker jar): replace it
                shutil.rmtree(libs)
            os.rename(tmp, libs)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        say(f"cached {len(list(libs.glob('*.jar')))} jars in {time.monotonic() - started:.1f}s")
    return libs
