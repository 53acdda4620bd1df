"""Decides what runs when: claims due syncs under a lease and runs them on a bounded pool."""

from syncline.scheduler.scheduler import Scheduler

__all__ = ["Scheduler"]
