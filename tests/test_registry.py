"""The registry as data: validation names the bad field, JSON round-trips, versions persist."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlmodel import Session

from app.registry import demo_registry
from personalization.registry import (
    Command,
    RegionPolicy,
    Registry,
    RegistryError,
    validate,
)
from personalization.store import registries as registry_store
from personalization.store.db import make_engine


def _data() -> dict:
    return demo_registry().to_dict()


def _errors(data: object) -> list[str]:
    with pytest.raises(RegistryError) as info:
        Registry.from_dict(data)
    return info.value.errors


def test_demo_registry_is_valid_and_rich_enough() -> None:
    reg = demo_registry()
    assert validate(reg) == []
    assert len(reg.commands) >= 30
    assert len({c.group for c in reg.commands}) >= 5
    assert {r.kind for r in reg.regions} >= {"toolbar", "menu", "palette", "sidebar"}
    assert reg.region("toolbar").policy.visible == 8
    assert len(reg.tasks) >= 4
    assert all(len(t.steps) >= 2 for t in reg.tasks)


def test_json_round_trip_is_lossless() -> None:
    reg = demo_registry()
    again = Registry.from_json(reg.to_json())
    assert again == reg
    assert again.to_dict() == reg.to_dict()
    assert json.loads(again.to_json(indent=None))["format"] == "adaptive-registry/1"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["regions"][2]["policy"].__setitem__("max_moves", -1),
            "regions[2].policy.max_moves: must be >= 0",
        ),
        (
            lambda d: d["regions"][0]["policy"].__setitem__("max_moves", "two"),
            "regions[0].policy.max_moves: must be an integer",
        ),
        (
            lambda d: d["regions"][1]["policy"].__setitem__("min_confidence", 1.5),
            "regions[1].policy.min_confidence: must be between 0 and 1",
        ),
        (
            lambda d: d["regions"][0]["policy"]["default_order"].append("nope"),
            "regions[0].policy.default_order[18]: unknown command 'nope'",
        ),
        (
            lambda d: d["regions"][0]["policy"].__setitem__("pinned", ["italic"]),
            "regions[0].policy.pinned[0]: 'italic' is at position 15",
        ),
        (
            lambda d: d["regions"][0]["policy"].__setitem__("apply_on", ["whenever"]),
            "regions[0].policy.apply_on[0]: must be one of",
        ),
        (lambda d: d["regions"][3].__setitem__("kind", "ribbon"), "regions[3].kind: must be one"),
        (
            lambda d: d["regions"][3]["policy"].__setitem__("suggested_first", "yes"),
            "regions[3].policy.suggested_first: must be true or false, got str 'yes'",
        ),
        (lambda d: d["regions"][0].pop("slots"), "regions[0].slots: is required"),
        (lambda d: d["regions"][0].__setitem__("colour", "red"), "regions[0].colour: unknown"),
        (lambda d: d["commands"][3].__setitem__("label", ""), "commands[3].label: must not be"),
        (lambda d: d["commands"].append(d["commands"][0]), "commands[34].id: duplicate"),
        (
            lambda d: d["tasks"][1]["steps"][0].__setitem__("ref", "ghost"),
            "tasks[1].steps[0].ref: unknown command 'ghost'",
        ),
        (
            lambda d: d["tasks"][0].__setitem__("trigger", {"command": None}),
            "tasks[0].trigger: needs a command or a probability",
        ),
        (lambda d: d["tasks"][2].__setitem__("max_per_day", 0), "tasks[2].max_per_day: must be"),
        (
            lambda d: d["tasks"][3]["trigger"].__setitem__("probability", 0),
            "tasks[3].trigger.probability: must be > 0",
        ),
        (lambda d: d.__setitem__("format", "other/9"), "format: unsupported format"),
    ],
)
def test_each_error_names_the_path(mutate, expected: str) -> None:
    data = _data()
    mutate(data)
    errors = _errors(data)
    assert any(e.startswith(expected) for e in errors), errors


def test_all_errors_are_reported_at_once() -> None:
    data = _data()
    data["regions"][0]["policy"]["max_moves"] = -3
    data["regions"][1]["policy"]["visible"] = 0
    data["tasks"][0]["idle_timeout_s"] = 0
    errors = _errors(data)
    assert "regions[0].policy.max_moves: must be >= 0" in errors
    assert any(e.startswith("regions[1].policy.visible:") for e in errors)
    assert "tasks[0].idle_timeout_s: must be > 0" in errors


def test_bad_json_names_line_and_column() -> None:
    with pytest.raises(RegistryError, match=r"line 2, column"):
        Registry.from_json('{"name": "x",\n  oops}')
    assert _errors([1, 2]) == ["(root): must be an object, got list"]


def test_lookup_errors_name_the_id() -> None:
    reg = demo_registry()
    with pytest.raises(KeyError, match="ribbon"):
        reg.region("ribbon")
    with pytest.raises(KeyError, match="nope"):
        reg.task("nope")
    assert reg.label("crop") == "Crop"
    assert reg.label("unknown-id") == "unknown-id"
    assert [m.id for m in reg.command_meta()] == [c.id for c in reg.commands]


def test_replace_does_not_reuse_a_stale_command_index() -> None:
    reg = demo_registry()
    assert reg.label("crop") == "Crop"
    renamed = replace(reg, commands=(Command(id="crop", label="Trim"),))
    assert renamed.label("crop") == "Trim"


def test_store_versions_history_and_dedup(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'reg.db'}")
    reg = demo_registry()
    with Session(engine) as session:
        assert registry_store.latest(session=session) is None
        v1 = registry_store.save(session=session, registry=reg, note="first")
        assert registry_store.save(session=session, registry=reg) == v1  # unchanged content
        toolbar = reg.region("toolbar")
        changed = replace(
            reg,
            regions=(replace(toolbar, policy=replace(toolbar.policy, max_moves=1)),)
            + reg.regions[1:],
        )
        v2 = registry_store.save(session=session, registry=changed, note="calmer toolbar")
        assert v2 == v1 + 1
    engine.dispose()
    engine = make_engine(f"sqlite:///{tmp_path / 'reg.db'}")  # reopen: really persisted
    with Session(engine) as session:
        latest = registry_store.latest(session=session)
        assert latest is not None and latest.version == v2
        assert latest.region("toolbar").policy.max_moves == 1
        old = registry_store.get(session=session, version=v1)
        assert old.version == v1 and old.region("toolbar").policy.max_moves == 2
        assert replace(old, version=0) == reg
        hist = registry_store.history(session=session)
        assert [(h.version, h.note) for h in hist] == [(v1, "first"), (v2, "calmer toolbar")]
        assert hist[0].checksum == registry_store.checksum(reg) != hist[1].checksum
        with pytest.raises(KeyError, match="version 99"):
            registry_store.get(session=session, version=99)
    engine.dispose()


def test_store_refuses_an_invalid_registry_and_keeps_what_it_had(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'reg.db'}")
    reg = demo_registry()
    bad_region = replace(
        reg.regions[0], policy=RegionPolicy(default_order=("crop",), max_moves=-1, visible=1)
    )
    bad = replace(reg, regions=(bad_region,))
    with Session(engine) as session:
        v1 = registry_store.save(session=session, registry=reg)
        with pytest.raises(RegistryError, match=r"regions\[0\]\.policy\.max_moves"):
            registry_store.save(session=session, registry=bad)
        assert [h.version for h in registry_store.history(session=session)] == [v1]
    engine.dispose()


def test_json_round_trip_keeps_the_checksum():
    """Re-saving an unchanged registry must not mint a new version (30 vs 30.0)."""
    from personalization.store.registries import checksum

    original = demo_registry()
    assert checksum(Registry.from_json(original.to_json())) == checksum(original)


def test_an_engine_given_no_registry_writes_none_and_follows_the_first_saved(tmp_path) -> None:
    """The engine must not put a declaration of its own into a host's database: without a
    registry it serves no regions, still records, and takes up the first one published."""
    from personalization.engine.personalizer import Personalizer

    url = f"sqlite:///{tmp_path / 'bare.db'}"
    bare = Personalizer(url=url, control_percent=0)
    try:
        assert bare.registry.regions == () and bare.registry.commands == ()
        with Session(bare.engine) as session:
            assert registry_store.history(session=session) == []
        with pytest.raises(KeyError, match="toolbar"):
            bare.layout("alice", "toolbar")
        assert bare.record_command("alice", "crop", region="toolbar") is not None
        assert bare.store.count("alice") == 1
        publisher = Personalizer(url=url, registry=demo_registry(), control_percent=0)
        bare.sync(force=True)
        assert bare.registry.version == publisher.registry.version == 1
        assert bare.layout("alice", "toolbar").visible
        publisher.close()
    finally:
        bare.close()
