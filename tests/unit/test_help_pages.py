"""Plain help pages (cli/help_pages.py): what rich's panels said is still there, in
sections, and nothing is cut to the terminal's width."""

from __future__ import annotations

from tests.unit.test_cli_parsing import Run

GLOBAL = "Global options (before or after the command):"


def sections(text: str) -> dict[str, str]:
    """Section title -> its lines (one string), as click's formatter writes them."""
    found: dict[str, list[str]] = {}
    current = "usage"
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            current = line[:-1]
            found[current] = []
        else:
            found.setdefault(current, []).append(line.strip())
    return {title: " ".join(lines) for title, lines in found.items()}


def test_root_help_keeps_the_global_options_apart_and_whole_summaries(run: Run) -> None:
    result = run("--help")
    assert result.exit_code == 0, result.stderr
    assert GLOBAL in result.stdout.splitlines()
    parts = sections(result.stdout)
    globals_, options, commands = parts[GLOBAL[:-1]], parts["Options"], parts["Commands"]
    for option, env in (
        ("--bootstrap-servers HOST:PORT,…", "KAFKAREDIS_KAFKA__BOOTSTRAP_SERVERS"),
        ("--redis-url URL", "KAFKAREDIS_REDIS__URL"),
        ("-X KEY=VALUE", "KAFKAREDIS_KAFKA__PROPERTIES"),
        ("--log-level <debug|info|warning|error>", "KAFKAREDIS_LOG_LEVEL"),
    ):
        assert option in globals_ and env in globals_, (option, globals_)
    assert "--version" in options and "--bootstrap-servers" not in options
    # A command's whole first paragraph, not cut at the first line's width.
    assert "below min.insync.replicas fail (exit 1)." in commands
    assert "read it back." in commands and "..." not in commands


def test_a_command_lists_its_arguments_options_and_the_global_ones(run: Run) -> None:
    parts = sections(run("cache", "get", "--help").stdout)
    assert "KEY " in parts["Arguments"] and "<str>" not in parts["Arguments"]
    assert "--json" in parts["Options"] and "--help" in parts["Options"]
    assert "--redis-url URL" in parts[GLOBAL[:-1]]
    assert "--redis-url" not in parts["Options"]


def test_values_are_named_not_typed(run: Run) -> None:
    """`--topic TOPIC`, `--timeout SECONDS`: never a bare type such as <str> or <int range>;
    choices stay listed."""
    for command in (["produce"], ["consume"], ["timer"], ["cache", "list"], ["groups", "reset"]):
        text = run(*command, "--help").stdout
        for bare in ("<str>", "<int>", "<float>", "range>", "list["):
            assert bare not in text, (command, bare)
    consume = run("consume", "--help").stdout
    for shown in ("--topic TOPIC", "--from START", "--timeout SECONDS", "<table|json|raw>"):
        assert shown in consume, shown
