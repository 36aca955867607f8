"""From the day and time a person types to the moment it means, in the workspace's time zone.

Twice a year a wall-clock time is not one moment. When the clocks go forward (Europe/Berlin, last Sunday of
March: 02:00 → 03:00) the times in between never happen; when they go back (last Sunday of October: 03:00 →
02:00) the times in between happen twice, first in summer time, then again an hour later in winter time. Python
names the two with `fold` (PEP 495): 0 the first, 1 the second. Nothing here guesses: a time that does not exist
is refused, and for a time that happens twice the person says which one (`fold`). Pure functions, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class ClockChange:
    """One change of a zone's UTC offset: at `at` (UTC) the clocks go from the `before` to the `after` offset.
    `seasonal`: a change into or out of daylight saving time (rather than a zone changing its standard time)."""

    at: datetime
    before: timedelta
    after: timedelta
    seasonal: bool

    @property
    def reads_before(self) -> datetime:
        """What the wall clock shows as it changes, by the old offset (naive local time), e.g. 02:00 in March."""
        return (self.at + self.before).replace(tzinfo=None)

    @property
    def reads_after(self) -> datetime:
        """…and by the new one, e.g. 03:00 in March."""
        return (self.at + self.after).replace(tzinfo=None)

    @property
    def why(self) -> str:
        """ " (summer time starts)", " (summer time ends)", or nothing for a change that is not seasonal."""
        if not self.seasonal:
            return ""
        return " (summer time starts)" if self.after > self.before else " (summer time ends)"


class LocalTimeProblem(ValueError):
    """The typed day and time is not exactly one moment in the zone. `str()` says why, in plain words."""

    def __init__(self, message: str, *, local: datetime, zone: ZoneInfo, change: ClockChange):
        super().__init__(message)
        self.local, self.zone, self.change = local, zone, change


class NonexistentLocalTime(LocalTimeProblem):
    """The clocks skip this time (spring forward). `clock_reads` is where a clock lands instead."""

    def __init__(self, message: str, *, local: datetime, zone: ZoneInfo, change: ClockChange, clock_reads: datetime):
        super().__init__(message, local=local, zone=zone, change=change)
        self.clock_reads = clock_reads


class AmbiguousLocalTime(LocalTimeProblem):
    """The clocks show this time twice (fall back). `choices`: (fold, label, aware moment), first one first."""

    def __init__(
        self, message: str, *, local: datetime, zone: ZoneInfo, change: ClockChange, choices: list[Occurrence]
    ):
        super().__init__(message, local=local, zone=zone, change=change)
        self.choices = choices


@dataclass(frozen=True)
class Occurrence:
    """One of the two moments a repeated time can mean: `fold` 0 the first, 1 the second; `moment` in UTC."""

    fold: int
    label: str
    moment: datetime


def _exists(local: datetime, aware: datetime, zone: ZoneInfo) -> bool:
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local


def _change_between(zone: ZoneInfo, start: datetime, end: datetime) -> ClockChange:
    """The offset change between two UTC instants (at most a few hours apart), found to the second."""
    first, last = start.astimezone(zone), end.astimezone(zone)
    before, after = first.utcoffset(), last.utcoffset()
    assert before is not None and after is not None
    lo, hi = start, end
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return ClockChange(at=hi.replace(microsecond=0), before=before, after=after, seasonal=first.dst() != last.dst())


def _span(change: ClockChange) -> tuple[str, str]:
    """The wall-clock readings on each side of a change, with the day when the change skips or repeats one."""
    before, after = change.reads_before, change.reads_after
    if before.date() == after.date():
        return _clock(before), _clock(after)
    return f"{_clock(before)} on {_day(before)}", f"{_clock(after)} on {_day(after)}"


def _clock(value: datetime) -> str:
    return f"{value:%H:%M}"


def _day(value: date) -> str:
    return f"{value:%A} {value.day} {value:%B %Y}"


def _offset(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def _duration(value: timedelta) -> str:
    minutes = int(abs(value).total_seconds() // 60)
    if minutes == 60:
        return "an hour"
    if minutes % 60 == 0:
        return f"{minutes // 60} hours"
    if minutes < 60:
        return f"{minutes} minutes"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def to_aware(day: date, at: time, zone: ZoneInfo, *, fold: int | None = None) -> datetime:
    """The moment `day` at `at` means in `zone`, as an aware datetime in UTC. (Not in `zone`: Python compares two
    datetimes of one zone by their wall time and ignores `fold`, so the two 02:30 would be "equal".)

    Raises `NonexistentLocalTime` for a time the clocks skip, and `AmbiguousLocalTime` for one they show twice
    unless `fold` says which (0: the first, 1: the second, an offset-difference later). `fold` is ignored for
    every other time."""
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    first, second = local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    what = f"{_clock(local)} on {_day(day)}"
    where = zone.key
    if not _exists(local, first, zone):
        # In a gap fold=0 reads the time with the old offset, which lands after the change; fold=1 before it.
        change = _change_between(zone, second.astimezone(UTC), first.astimezone(UTC))
        lands = first.astimezone(UTC).astimezone(zone)
        jump_from, jump_to = _span(change)
        example = _clock(lands) if lands.date() == day else f"{_clock(lands)} on {_day(lands)}"
        message = (
            f"There is no {what} in {where}: the clocks jump from {jump_from} straight to {jump_to}{change.why}. "
            f"Pick another time, for example {example}."
        )
        raise NonexistentLocalTime(message, local=local, zone=zone, change=change, clock_reads=lands)
    if fold in (0, 1):
        return (second if fold else first).astimezone(UTC)
    change = _change_between(zone, first.astimezone(UTC), second.astimezone(UTC))
    gap = _duration(change.before - change.after)
    choices = []
    for number, moment in ((0, first), (1, second)):
        # The first one has the larger offset when the clocks go back: it is the summer time one.
        season = ("winter time" if number else "summer time") if change.seasonal else ""
        details = ", ".join(part for part in (season, _offset(moment.utcoffset() or timedelta())) if part)
        later = f", {gap} later" if number else ""
        ordinal = "second" if number else "first"
        choices.append(Occurrence(number, f"The {ordinal} {_clock(local)}{later} ({details})", moment.astimezone(UTC)))
    back_from, back_to = _span(change)
    message = (
        f"{what[0].upper()}{what[1:]} happens twice in {where}: the clocks go back from {back_from} to {back_to}"
        f"{change.why}. Choose which {_clock(local)} you mean."
    )
    raise AmbiguousLocalTime(message, local=local, zone=zone, change=change, choices=choices)
