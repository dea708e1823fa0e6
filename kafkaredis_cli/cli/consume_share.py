"""`consume --share-group G` (KIP-932 share groups) and `--group-protocol`: what they
allow, how a share-group read runs, and its summary line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from kafkaredis_cli.cli.console import info
from kafkaredis_cli.errors import CheckFailed, Interrupted, UsageError

if TYPE_CHECKING:
    from kafkaredis_cli.cli.state import CliState
    from kafkaredis_cli.domain.messages import ConsumedRecord

SHARE_HELP = (
    "Read as a member of this share group (KIP-932, queues: members share each "
    "partition's records, each record accepted once handled). librdkafka's share consumer "
    "is in preview. New group: from the earliest record (--from end: the latest)."
)
PROTOCOL_HELP = (
    "Group protocol of --group: classic, or consumer (KIP-848: the broker assigns the "
    "partitions). Same as -X group.protocol=..."
)
_SHARE_STARTS = ("stored", "beginning", "end")


def check_share_options(
    *,
    group: str | None,
    no_group: bool,
    protocol: str | None,
    start: str,
    end: str | None,
    exit_at_end: bool,
    partition: int | None,
) -> bool:
    """The options a share group cannot take are usage errors; True if --from end."""
    clash = [
        name
        for name, given in (
            ("--group", group is not None),
            ("--no-group", no_group),
            ("--group-protocol", protocol is not None),
            ("--to", end is not None),
            ("--exit-at-end", exit_at_end),
            ("--partition", partition is not None),
        )
        if given
    ]
    if clash:
        raise UsageError(
            f"{clash[0]} has no meaning with --share-group (a share group's members share "
            "every partition, with no end and no offsets of their own)"
        )
    if start.strip().lower() not in _SHARE_STARTS:
        raise UsageError(
            f"--from {start} has no meaning with --share-group: a new share group starts at "
            "the beginning or the end (--from beginning | end); one with state goes on from it"
        )
    return start.strip().lower() == "end"


def apply_group_protocol(cli: CliState, protocol: str | None, no_group: bool) -> None:
    """--group-protocol sets librdkafka's group.protocol; a -X saying otherwise clashes."""
    if protocol is None:
        return
    if no_group:
        raise UsageError("--group-protocol applies to a group: not with --no-group")
    properties = cli.settings().kafka.properties
    given = properties.get("group.protocol")
    if given is not None and given != protocol:
        raise UsageError(
            f"--group-protocol {protocol} and -X group.protocol={given} contradict each other"
        )
    properties["group.protocol"] = protocol


def run_share(
    cli: CliState,
    *,
    topic: str,
    group: str,
    latest: bool,
    count: int | None,
    timeout: float | None,
    update_cache: bool,
    show: Callable[[Sequence[ConsumedRecord]], None],
    match: Callable[[ConsumedRecord], bool] | None,
) -> None:
    from kafkaredis_cli.cli.gctune import fewer_collections
    from kafkaredis_cli.domain.commands import ShareConsume
    from kafkaredis_cli.signals import StopRequest, stop_on_signals

    app = cli.app()
    try:
        with stop_on_signals(StopRequest()) as stop, fewer_collections():
            result = app.mediator.send(
                ShareConsume(
                    topic=topic,
                    group=group,
                    latest=latest,
                    count=count,
                    timeout_s=timeout,
                    update_cache=update_cache,
                    show=show,
                    should_stop=stop,
                    match=match,
                )
            )
    finally:
        app.close()
    filtered = f" ({result.filtered_out} more filtered out)" if match is not None else ""
    updated = f"{result.cache_updated} Redis record(s) updated"
    if result.no_record:
        updated += f" ({result.no_record} had no Redis record)"
    failed = f", {result.failures} handling failure(s)" if result.failures else ""
    info(
        f"consumed {result.consumed} message(s){filtered} from share group {group}: "
        f"{result.accepted} accepted, {result.released} released{failed}, "
        f"{result.redelivered} redelivered; {updated}"
    )
    if result.failure is not None:
        raise result.failure
    if result.stopped_by == "interrupt" and count is not None:
        raise Interrupted("interrupted before the end of the read", signum=stop.first_signal)
    if result.stopped_by == "timeout" and count is not None and result.consumed < count:
        raise CheckFailed(
            f"timed out after {timeout:g}s with {result.consumed} of {count} messages"
        )
