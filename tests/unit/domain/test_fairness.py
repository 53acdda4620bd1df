"""Fair shares of run slots among projects."""

from __future__ import annotations

from syncline.domain.fairness import RunCaps, allocate


def test_projects_take_turns_so_a_big_one_cannot_starve_a_small_one():
    """With 4 slots, a project with 1,000 due syncs gets 3 and one with a single sync gets 1."""
    shares = allocate(4, {"big": 1000, "small": 1}, {}, RunCaps())

    assert shares == {"big": 3, "small": 1}


def test_the_per_project_cap_counts_runs_on_every_worker():
    """A project already running its cap elsewhere gets nothing; the others share the slots."""
    shares = allocate(10, {"big": 50, "other": 2}, {"big": 2}, RunCaps(per_project=2))

    assert shares == {"other": 2}


def test_the_total_cap_limits_slots_across_the_cluster():
    """With 5 runs allowed in all and 4 in progress, one more starts, for the oldest waiter."""
    shares = allocate(8, {"a": 3, "b": 3}, {"a": 2, "c": 2}, RunCaps(total=5))

    assert shares == {"a": 1}


def test_no_more_than_is_due():
    """Free slots beyond what is due stay free."""
    assert allocate(10, {"a": 2, "b": 1}, {}, RunCaps()) == {"a": 2, "b": 1}
    assert allocate(0, {"a": 2}, {}, RunCaps()) == {}
