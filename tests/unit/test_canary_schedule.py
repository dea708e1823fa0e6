"""The grid: slot k is due at start + k * interval; overruns skip slots, never shift them."""

from __future__ import annotations

import pytest

from kafkaredis_cli.canary.schedule import Grid


def test_due_times_do_not_drift():
    grid = Grid(0.1, start=0.0)
    assert grid.due(10) == pytest.approx(1.0)
    assert grid.due(1_000_000) == pytest.approx(100_000.0, abs=1e-6)


def test_slots_follow_each_other_when_ticks_are_short():
    grid = Grid(1.0, start=100.0)
    slots = [grid.next_slot(now) for now in (100.0, 100.2, 101.3, 102.05)]
    assert [s.index for s in slots] == [0, 1, 2, 3]
    assert [s.due for s in slots] == [100.0, 101.0, 102.0, 103.0]
    assert all(s.skipped == 0 for s in slots)


def test_an_overrun_within_the_grace_runs_the_next_slot_late():
    grid = Grid(1.0, start=0.0)
    grid.next_slot(0.0)
    slot = grid.next_slot(1.4)  # slot 1 was due 0.4 s ago: grace is half an interval
    assert (slot.index, slot.skipped) == (1, 0)
    assert slot.due == 1.0


def test_a_longer_overrun_skips_the_passed_slots():
    grid = Grid(1.0, start=0.0)
    grid.next_slot(0.0)
    slot = grid.next_slot(3.7)  # slots 1, 2, 3 passed (3 by more than the grace)
    assert (slot.index, slot.skipped, slot.due) == (4, 3, 4.0)
    assert grid.next_slot(4.1).index == 5


def test_overrun_is_measured_against_the_next_slot():
    grid = Grid(0.5, start=10.0)
    slot = grid.next_slot(10.0)
    assert grid.overrun_s(slot, 10.3) == 0.0
    assert grid.overrun_s(slot, 10.75) == pytest.approx(0.25)


def test_interval_must_be_positive():
    with pytest.raises(ValueError):
        Grid(0, start=0.0)
