"""A person's own controls and the small usage summary the layout explains itself with.

User controls always beat the model (pins, hides, the personalization level, reset, opting
out of recording). Every function here is pure: it returns a new :class:`UserProfile`, so the
caller decides when to persist (``profile_store``) and tests need no database.
Only command ids, counts and times are kept: never arguments or free text.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from personalization.errors import ControlError
from personalization.types import Event, EventKind


class Level(StrEnum):
    """``off``: the designer default exactly. ``subtle``: only the suggested zone adapts and
    nothing is hidden automatically. ``full``: suggested zone, frequency-driven static zone
    and hiding of long-unused items, all within the region's policy."""

    OFF = "off"
    SUBTLE = "subtle"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class UserProfile:
    user_id: str
    level: Level = Level.FULL
    recording: bool = True
    retention_days: int = 365
    pins: dict[str, tuple[str, ...]] = field(default_factory=dict)  # region -> pinned, in order
    hidden: dict[str, tuple[str, ...]] = field(default_factory=dict)  # region -> hidden
    dismissals: dict[str, int] = field(default_factory=dict)  # task id -> dismissals
    counts: dict[str, int] = field(default_factory=dict)  # command -> uses
    last_used: dict[str, float] = field(default_factory=dict)  # command -> time (s)
    last_command: str | None = None
    first_seen: float | None = None
    # learning epoch: a reset or retention purge starts a new one, and learning restarts
    # after event ``reset_seq`` (a reset keeps older events to export, teaching nothing)
    model_epoch: str = ""
    reset_seq: int = 0

    def pinned_in(self, region: str) -> tuple[str, ...]:
        return self.pins.get(region, ())

    def hidden_in(self, region: str) -> tuple[str, ...]:
        return self.hidden.get(region, ())

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "level": str(self.level),
            "recording": self.recording,
            "retention_days": self.retention_days,
            "pins": {k: list(v) for k, v in self.pins.items()},
            "hidden": {k: list(v) for k, v in self.hidden.items()},
            "dismissals": dict(self.dismissals),
            "counts": dict(self.counts),
            "last_used": dict(self.last_used),
            "last_command": self.last_command,
            "first_seen": self.first_seen,
            "model_epoch": self.model_epoch,
            "reset_seq": self.reset_seq,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UserProfile:
        try:
            return cls(
                user_id=str(data["user_id"]),
                level=Level(data.get("level", "full")),
                recording=bool(data.get("recording", True)),
                retention_days=int(data.get("retention_days", 365)),
                pins={k: tuple(v) for k, v in data.get("pins", {}).items()},
                hidden={k: tuple(v) for k, v in data.get("hidden", {}).items()},
                dismissals={k: int(v) for k, v in data.get("dismissals", {}).items()},
                counts={k: int(v) for k, v in data.get("counts", {}).items()},
                last_used={k: float(v) for k, v in data.get("last_used", {}).items()},
                last_command=data.get("last_command"),
                first_seen=data.get("first_seen"),
                model_epoch=str(data.get("model_epoch", "")),
                reset_seq=int(data.get("reset_seq", 0)),
            )
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"invalid profile data: {exc!r}") from exc


def _without(items: tuple[str, ...], command: str) -> tuple[str, ...]:
    return tuple(c for c in items if c != command)


def _set(mapping: dict[str, tuple[str, ...]], region: str, items: tuple[str, ...]):
    out = dict(mapping)
    if items:
        out[region] = items
    else:
        out.pop(region, None)
    return out


def pin(profile: UserProfile, *, region: str, command: str) -> UserProfile:
    """Pin keeps an item visible and in place; pinning also un-hides it."""
    pins = profile.pinned_in(region)
    if command not in pins:
        pins = (*pins, command)  # appended so earlier pins never move
    return replace(
        profile,
        pins=_set(profile.pins, region, pins),
        hidden=_set(profile.hidden, region, _without(profile.hidden_in(region), command)),
    )


def unpin(profile: UserProfile, *, region: str, command: str) -> UserProfile:
    return replace(
        profile, pins=_set(profile.pins, region, _without(profile.pinned_in(region), command))
    )


def hide(
    profile: UserProfile,
    *,
    region: str,
    command: str,
    protected: tuple[str, ...] = (),
) -> UserProfile:
    """Hide moves an item to "More" (it stays reachable). ``protected`` is the region's
    designer pins and never-hide list: hiding those is refused with a clear error."""
    if command in protected:
        raise ControlError(f"cannot hide {command!r} in region {region!r}: the designer keeps it")
    hidden = profile.hidden_in(region)
    if command not in hidden:
        hidden = (*hidden, command)
    return replace(
        profile,
        hidden=_set(profile.hidden, region, hidden),
        pins=_set(profile.pins, region, _without(profile.pinned_in(region), command)),
    )


def unhide(profile: UserProfile, *, region: str, command: str) -> UserProfile:
    return replace(
        profile,
        hidden=_set(profile.hidden, region, _without(profile.hidden_in(region), command)),
    )


def set_level(profile: UserProfile, level: Level | str) -> UserProfile:
    try:
        return replace(profile, level=Level(level))
    except ValueError as exc:
        choices = ", ".join(v.value for v in Level)
        raise ControlError(f"level: must be one of {choices}, got {level!r}") from exc


def set_recording(profile: UserProfile, enabled: bool) -> UserProfile:
    """Opting out stops recording; the caller must also stop storing events for this user."""
    return replace(profile, recording=enabled)


def reset(profile: UserProfile) -> UserProfile:
    """ "Reset my personalization": forget pins, hides, usage and dismissals, keep the
    person's choices about recording, retention and level."""
    return UserProfile(
        user_id=profile.user_id,
        level=profile.level,
        recording=profile.recording,
        retention_days=profile.retention_days,
        model_epoch=profile.model_epoch,
        reset_seq=profile.reset_seq,
    )


def record_use(profile: UserProfile, *, command: str, at: float) -> UserProfile:
    """Count one use (no-op when the person opted out of recording)."""
    if not profile.recording:
        return profile
    counts = dict(profile.counts)
    counts[command] = counts.get(command, 0) + 1
    last_used = dict(profile.last_used)
    last_used[command] = at
    return replace(
        profile,
        counts=counts,
        last_used=last_used,
        last_command=command,
        first_seen=at if profile.first_seen is None else profile.first_seen,
    )


def record_dismissal(profile: UserProfile, *, task_id: str) -> UserProfile:
    dismissals = dict(profile.dismissals)
    dismissals[task_id] = dismissals.get(task_id, 0) + 1
    return replace(profile, dismissals=dismissals)


def apply_event(profile: UserProfile, event: Event) -> UserProfile:
    """Fold a stored event into the profile, so a profile can be rebuilt from the log."""
    region = event.context.region or ""
    if event.kind is EventKind.INVOKE:
        return record_use(profile, command=event.command, at=event.timestamp or 0.0)
    if event.kind is EventKind.PIN:
        return pin(profile, region=region, command=event.command)
    if event.kind is EventKind.UNPIN:
        return unpin(profile, region=region, command=event.command)
    if event.kind is EventKind.HIDE:
        return hide(profile, region=region, command=event.command)
    if event.kind is EventKind.UNHIDE:
        return unhide(profile, region=region, command=event.command)
    if event.kind is EventKind.PANEL_DISMISSED and event.context.task_id:
        return record_dismissal(profile, task_id=event.context.task_id)
    return profile
