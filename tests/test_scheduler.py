"""Scheduler: periods, priorities, ties by lateness, holds, achieved revisit times, monotonic clock."""

from __future__ import annotations

import pytest

from station.scheduler import BandSlot, Scheduler


class FakeClock:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def run(s: Scheduler, clock: FakeClock, until: float, sweep_s: float) -> list[tuple[float, str]]:
    """Drive the scheduler like the daemon: each sweep takes ``sweep_s``; idle waits jump the clock."""
    log = []
    while clock.t < until:
        d = s.next()
        if d.band is None:
            clock.t += d.wait_s
            continue
        s.started(d.band)
        log.append((clock.t, d.band))
        clock.t += sweep_s
    return log


def test_every_band_due_at_start_in_priority_order():
    clock = FakeClock()
    s = Scheduler([BandSlot("a", 10, 1), BandSlot("b", 10, 9), BandSlot("c", 10, 5)], clock=clock)
    order = []
    for _ in range(3):
        d = s.next()
        order.append(d.band)
        s.started(d.band)
    assert order == ["b", "c", "a"]
    d = s.next()
    assert d.band is None and d.wait_s == pytest.approx(10.0)


def test_each_band_revisited_on_its_own_period():
    clock = FakeClock()
    s = Scheduler([BandSlot("fast", 2.0, 5), BandSlot("slow", 10.0, 5)], clock=clock)
    log = run(s, clock, until=1100.0, sweep_s=0.5)
    fast = [t for t, b in log if b == "fast"]
    slow = [t for t, b in log if b == "slow"]
    assert len(slow) == 10
    assert 45 <= len(fast) <= 50
    st = s.stats("slow")
    assert st.count == 9 and st.mean_s == pytest.approx(10.0, abs=0.6)
    assert st.max_s <= 10.5
    assert s.stats("fast").mean_s == pytest.approx(2.0, abs=0.3)


def test_overload_priority_wins_and_revisits_record_the_shortfall():
    # two bands each wanting a 1 s revisit but each sweep takes 1 s: impossible, both get ~2 s
    clock = FakeClock()
    s = Scheduler([BandSlot("lo", 1.0, 1), BandSlot("hi", 1.0, 9)], clock=clock)
    log = run(s, clock, until=1020.0, sweep_s=1.0)
    assert log[0][1] == "hi"
    # the achieved revisit is what really happened, not the wanted period
    assert s.stats("hi").mean_s == pytest.approx(2.0, abs=0.1)
    assert s.stats("lo").mean_s == pytest.approx(2.0, abs=0.1)
    assert s.stats("lo").wanted_s == 1.0


def test_overload_with_unequal_priorities_starves_nobody_forever():
    # hi is due every 1 s, lo every 5 s; sweeps take 0.6 s: lo still runs (ties broken by lateness)
    clock = FakeClock()
    s = Scheduler([BandSlot("lo", 5.0, 1), BandSlot("hi", 1.0, 9)], clock=clock)
    run(s, clock, until=1060.0, sweep_s=0.6)
    assert s.stats("lo").sweeps >= 8
    assert s.stats("hi").sweeps >= 50


def test_same_priority_most_overdue_first():
    clock = FakeClock()
    s = Scheduler([BandSlot("a", 10, 5), BandSlot("b", 2, 5)], clock=clock)
    s.started("a")
    s.started("b")
    clock.t += 20  # a is 2x late, b is 10x late
    assert s.next().band == "b"


def test_hold_defers_a_band_and_exclude_skips_finished_bands():
    clock = FakeClock()
    s = Scheduler([BandSlot("a", 5, 9), BandSlot("b", 5, 1)], clock=clock)
    s.hold("a", clock.t + 3)
    assert s.next().band == "b"
    s.started("b")
    d = s.next()
    assert d.band is None and d.wait_s == pytest.approx(3.0)
    clock.t += 3
    assert s.next().band == "a"
    assert s.next(exclude=["a", "b"]).band is None


def test_wall_clock_jump_does_not_matter(monkeypatch):
    # the scheduler only reads its (monotonic) clock; moving time.time must change nothing
    import time as _time

    clock = FakeClock()
    s = Scheduler([BandSlot("a", 10, 5)], clock=clock)
    s.started("a")
    monkeypatch.setattr(_time, "time", lambda: 4e9)
    assert s.next().wait_s == pytest.approx(10.0)


def test_reconfigure_keeps_history_of_remaining_bands():
    clock = FakeClock()
    s = Scheduler([BandSlot("a", 10, 5), BandSlot("b", 10, 5)], clock=clock)
    s.started("a")
    clock.t += 10
    s.started("a")
    s.set_bands([BandSlot("a", 5, 5), BandSlot("c", 1, 1)])
    assert s.bands == ("a", "c")
    assert s.revisits("a") == (10.0,)
    assert s.sweeps("a") == 2
    assert s.due_at("a") == pytest.approx(clock.t + 5)


def test_bad_bands_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        Scheduler([BandSlot("a", 1, 1), BandSlot("a", 2, 1)])
    with pytest.raises(ValueError, match="revisit_s"):
        Scheduler([BandSlot("a", 0, 1)])
