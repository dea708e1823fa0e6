"""The named contexts: one JSON file under $XDG_CONFIG_HOME/kafkaredis/, mode 0600.

{"current": "prod", "contexts": {"prod": {"kafka": {...}, "redis": {...}}, ...}}

Each context holds settings in the shape of `Settings` (kafka.bootstrap_servers,
kafka.properties, redis.url, ...). JSON because the standard library reads *and* writes
it exactly (tomllib only reads; a TOML writer of our own would have to get the quoting
of any librdkafka value right). A secret may be stored as a reference, `env:NAME` or
`file:PATH`, resolved when the settings are loaded. A file that holds a secret itself
(not a reference) is refused when group or other users may read it.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafkaredis_cli.errors import ConfigError, UsageError, shown
from kafkaredis_cli.secrets import MASK, is_secret_property, mask_url

FILE_NAME = "contexts.json"
# The settings that are secrets, by their place in a context (and every secret property).
SECRET_FIELDS = frozenset(
    {
        ("kafka", "sasl_password"),
        ("kafka", "sasl_username"),  # librdkafka redacts it: one policy
        ("redis", "url"),  # when it holds a password
        ("redis", "sentinel_password"),
    }
)
REFERENCE = re.compile(r"^(env|file):(.+)$", re.S)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def contexts_path() -> Path:
    """$XDG_CONFIG_HOME/kafkaredis/contexts.json (~/.config when it is unset or relative,
    as the XDG spec says)."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    home = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return home / "kafkaredis" / FILE_NAME


def name_problem(name: str) -> str | None:
    if _NAME.match(name):
        return None
    return (
        f"{shown(name)!r} is not a context name "
        "(1 to 64 letters, digits, '.', '_' or '-', not starting with a punctuation mark)"
    )


@dataclass
class ContextFile:
    path: Path
    current: str | None = None
    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def get(self, name: str) -> dict[str, Any]:
        """The context `name`, or a one-line usage error naming the ones there are."""
        if name not in self.contexts:
            known = ", ".join(sorted(self.contexts)) or "none"
            raise UsageError(f"no context named {shown(name)!r} in {self.path} (contexts: {known})")
        return self.contexts[name]


def read_contexts(path: Path | None = None) -> ContextFile:
    """The file's contexts (none if there is no file). Refused when it is not ours to
    trust: not JSON of the expected shape, or readable by others while holding a secret."""
    path = path or contexts_path()
    try:
        with open(path, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            raw = f.read()
    except FileNotFoundError:
        return ContextFile(path)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ConfigError(f"{path} is not valid JSON (fix it, or delete it)") from None
    contexts = data.get("contexts", {}) if isinstance(data, dict) else None
    current = data.get("current") if isinstance(data, dict) else None
    if not isinstance(contexts, dict) or not all(isinstance(v, dict) for v in contexts.values()):
        raise ConfigError(f'{path}: expected {{"contexts": {{NAME: {{...}}}}}}')
    if not (current is None or isinstance(current, str)):
        raise ConfigError(f'{path}: "current" must be a context name')
    for name, values in contexts.items():
        for section in ("kafka", "redis"):
            if not isinstance(values.get(section, {}), dict):
                raise ConfigError(f"{path}: context {shown(name)!r}: {section} must be an object")
    file = ContextFile(path, current, contexts)
    if mode & (stat.S_IRWXG | stat.S_IRWXO) and any(map(holds_secret, contexts.values())):
        raise ConfigError(
            f"{path} holds a secret and other users may read it "
            f"(mode {stat.S_IMODE(mode):04o}): run chmod 600 {path}"
        )
    return file


def write_contexts(file: ContextFile) -> None:
    """Replace the file at once (a temporary file renamed over it), mode 0600, in a
    directory only its owner may enter when we create it."""
    file.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = {"current": file.current, "contexts": file.contexts}
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    temporary = file.path.with_name(f".{file.path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, file.path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def is_reference(value: object) -> bool:
    return isinstance(value, str) and REFERENCE.match(value) is not None


def _secrets(values: dict[str, Any]) -> list[tuple[tuple[str, ...], Any]]:
    """(place, value) of every secret setting a context holds."""
    found: list[tuple[tuple[str, ...], Any]] = [
        ((section, name), values[section][name])
        for section, name in SECRET_FIELDS
        if isinstance(values.get(section), dict) and values[section].get(name) is not None
    ]
    kafka = values.get("kafka")
    properties = kafka.get("properties") if isinstance(kafka, dict) else None
    if isinstance(properties, dict):
        found += [
            (("kafka", "properties", name), value)
            for name, value in properties.items()
            if is_secret_property(name)
        ]
    return found


def _is_secret_value(place: tuple[str, ...], value: Any) -> bool:
    if is_reference(value):
        return False
    if place == ("redis", "url"):
        return isinstance(value, str) and mask_url(value) != value
    return bool(value)


def holds_secret(values: dict[str, Any]) -> bool:
    """Does the context hold a secret itself (not a reference to one)?"""
    return any(_is_secret_value(place, value) for place, value in _secrets(values))


def _replace(values: dict[str, Any], place: tuple[str, ...], new: Any) -> None:
    target = values
    for key in place[:-1]:
        target = target[key]
    target[place[-1]] = new


def _copy(values: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(values))
    return copied


def masked(values: dict[str, Any]) -> dict[str, Any]:
    """The context as `context show` prints it: a reference as written, a secret masked."""
    result = _copy(values)
    for place, value in _secrets(values):
        if _is_secret_value(place, value):
            shown_value = mask_url(value) if place == ("redis", "url") else MASK
            _replace(result, place, shown_value)
    return result


def resolve(name: str, values: dict[str, Any]) -> dict[str, Any]:
    """The context with each secret reference replaced by what it names."""
    result = _copy(values)
    for place, value in _secrets(values):
        match = REFERENCE.match(value) if isinstance(value, str) else None
        if match:
            _replace(result, place, _dereference(name, ".".join(place), *match.groups()))
    return result


def resolve_as_placeholders(values: dict[str, Any]) -> dict[str, Any]:
    """The context with each reference replaced by a valid stand-in (to validate the rest
    of it before the referenced secrets exist)."""
    result = _copy(values)
    sentinel = isinstance(values.get("redis"), dict) and values["redis"].get("mode") == "sentinel"
    for place, value in _secrets(values):
        if is_reference(value):
            if place == ("redis", "url"):
                stand_in = "redis+sentinel://stand-in:26379/s" if sentinel else "redis://stand-in"
            else:
                stand_in = "stand-in"
            _replace(result, place, stand_in)
    return result


def _dereference(context: str, setting: str, kind: str, target: str) -> str:
    where = f"context {context!r}: {setting}"
    if kind == "env":
        value = os.environ.get(target)
        if value is None:
            raise ConfigError(f"{where} refers to environment variable {shown(target)}, not set")
        return value
    path = Path(target).expanduser()
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise ConfigError(f"{where} refers to file {shown(str(path))}: {reason}") from None
