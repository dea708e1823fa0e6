"""Multi-key writes that work on one Redis and on a Redis Cluster alike.

A write is a Lua script called with some keys and one argument per key. On a cluster
every call may only touch keys of one hash slot, so the keys are grouped by slot, each
group becomes one EVALSHA (a key alone in its slot, the plain command instead), and
every node gets all of its calls in one packed round trip (one server: one group per
1,000 keys, as before). A call that worked is never sent again; one that failed is (the
writes are idempotent: SET, SETRANGE of the same bytes, UNLINK): after
MOVED, a dead primary or a demoted master (READONLY) the slots are learnt again and the
calls retried with backoff until the settings' timeout has passed; then the last error
is raised and the caller counts the failure.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any

import hiredis
import redis
from redis import exceptions as rex
from redis.crc import key_slot

from kafkaredis_cli.adapters.redis_connect import Node, RedisConnection

GROUP_MAX = 1000  # keys of one script call
SEND_BYTES = 256 * 1024  # bytes written to a node's socket at once

# Worth another try once the cluster (or Sentinel) has settled.
TRANSIENT: tuple[type[Exception], ...] = (
    rex.ConnectionError,
    rex.TimeoutError,
    rex.MovedError,
    rex.AskError,
    rex.TryAgainError,
    rex.ClusterDownError,
    rex.ReadOnlyError,
    rex.BusyLoadingError,
    rex.MasterDownError,
    rex.RedisClusterException,
)


# The command a one-key call is sent as instead, given key, argument and shared
# argument (on a cluster most slots get one key of a chunk: a plain command costs the
# server far less than a script call). Its reply counts 1 if it is OK, else its number.
SingleKey = Callable[[str, bytes, Any], tuple[Any, ...]]


class SlotScript:
    """A Lua script run on keys grouped by slot: KEYS[i] with ARGV[i + 1]; ARGV[1] is
    shared by every key of the call. `single`, if given, is what a call of one key is
    sent as instead (the same effect, without Lua)."""

    def __init__(self, source: str, single: SingleKey | None = None) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()
        self.single = single

    def run(
        self,
        connection: RedisConnection,
        items: Sequence[tuple[str, bytes]],
        shared: bytes | str | int,
        timeout_s: float,
    ) -> int:
        """Call the script on every (key, argument); the sum of what the calls return.

        Retried for up to `timeout_s`; once a write has given up, the next ones are tried
        once each (no wait while Redis stays down) until one gets through again."""
        deadline = time.monotonic() + (0.0 if connection.failing else timeout_s)
        pending = list(items)
        total = attempt = rounds = 0
        loaded: Exception | None = None
        while pending:
            rounds += 1
            failed: list[tuple[str, bytes]] = []
            error: Exception | None = None
            try:
                by_node = _by_node(connection, pending)
            except rex.RedisClusterException as exc:  # a slot without a node, for now
                by_node, failed, error = {}, pending, exc
            for node, groups in by_node.values():
                problem: Exception | None
                try:
                    done, refused, problem = self._send(node, groups, shared)
                except TRANSIENT as lost:  # no reply read: every call is tried again
                    done, refused, problem = 0, groups, lost
                total += done
                failed += [item for group in refused for item in group]
                if isinstance(problem, rex.NoScriptError):  # a node that never saw it
                    node.client.script_load(self.source)
                    loaded = problem
                elif isinstance(problem, TRANSIENT):
                    error = problem
                elif problem is not None:
                    raise problem
            pending = failed
            if pending and time.monotonic() >= deadline and (error is not None or rounds > 1):
                connection.failing = error is not None
                if error is not None:
                    _refresh(connection)  # so the next write finds a promoted replica
                raise error or loaded or rex.TimeoutError("writes not done in time")
            if pending and error is not None:
                attempt += 1
                time.sleep(min(0.05 * 2**attempt, 0.5, max(0.0, deadline - time.monotonic())))
                _refresh(connection)
        connection.failing = False
        return total

    def _send(
        self, node: Node, groups: list[list[tuple[str, bytes]]], shared: Any
    ) -> tuple[int, list[list[tuple[str, bytes]]], Exception | None]:
        """Every call of `groups` to one node, sent in pieces of about SEND_BYTES (not
        all of a chunk's bytes at once in memory), then every reply read: what the calls
        that worked returned, the groups of those that did not, and the first error
        (calls that worked are not sent again: UNLINK's count stays right)."""
        sha, pack, single = self.sha, hiredis.pack_command, self.single
        pool = node.client.connection_pool
        conn = pool.get_connection()
        try:
            buffer: list[bytes] = []
            size = 0
            first = True
            for group in groups:
                if single is not None and len(group) == 1:
                    command = pack(single(group[0][0], group[0][1], shared))
                else:
                    command = pack(
                        ("EVALSHA", sha, len(group), *[k for k, _ in group], shared,
                         *[a for _, a in group])
                    )  # fmt: skip
                buffer.append(command)
                size += len(command)
                if size >= SEND_BYTES:
                    joined = [b"".join(buffer)]  # one sendall, not one per call
                    conn.send_packed_command(joined, check_health=first)  # type: ignore[no-untyped-call]
                    buffer, size, first = [], 0, False
            if buffer:
                conn.send_packed_command([b"".join(buffer)], check_health=first)  # type: ignore[no-untyped-call]
            done = 0
            error: Exception | None = None
            refused: list[list[tuple[str, bytes]]] = []
            for at, group in enumerate(groups):  # every reply, to keep the connection in step
                try:
                    reply = conn.read_response()
                except rex.ResponseError as exc:
                    error = error or exc
                    refused.append(group)
                    continue
                except (rex.ConnectionError, rex.TimeoutError) as exc:
                    conn.disconnect()  # type: ignore[no-untyped-call]
                    return done, refused + groups[at:], exc
                done += 1 if reply == b"OK" or reply == "OK" else int(reply)
            return done, refused, error
        except (rex.ConnectionError, rex.TimeoutError):
            conn.disconnect()  # type: ignore[no-untyped-call]
            raise
        finally:
            pool.release(conn)


def _by_node(
    connection: RedisConnection, items: Sequence[tuple[str, bytes]]
) -> dict[str, tuple[Node, list[list[tuple[str, bytes]]]]]:
    """node name -> (node, groups of at most GROUP_MAX items whose keys share a slot)."""
    if connection.cluster is None:
        node = connection.node_for_slot(0)
        groups = [list(items[i : i + GROUP_MAX]) for i in range(0, len(items), GROUP_MAX)]
        return {node.name: (node, groups)}
    by_slot: dict[int, list[tuple[str, bytes]]] = {}
    for item in items:
        slot = key_slot(item[0].encode())
        group = by_slot.get(slot)
        if group is None:
            by_slot[slot] = [item]
        else:
            group.append(item)
    table = connection.slot_table()
    nodes: dict[str, tuple[Node, list[list[tuple[str, bytes]]]]] = {}
    for slot, group in by_slot.items():
        node = table[slot]
        entry = nodes.setdefault(node.name, (node, []))
        entry[1].extend(group[i : i + GROUP_MAX] for i in range(0, len(group), GROUP_MAX))
    return nodes


def _refresh(connection: RedisConnection) -> None:
    with suppress(redis.RedisError, IndexError, KeyError):  # still settling: next attempt
        connection.refresh()
