"""The engine work behind widget events: what nobody-signed-in sees, and what a panel
button means in each panel state."""

from __future__ import annotations

import pytest

from personalization.engine.personalizer import Personalizer
from personalization.registry import ApplyOn, Registry
from reflex_adaptive.engine_calls import decide_regions, panel_steps

COMMANDS = ["save", "undo", "crop", "share", "find", "export_pdf"]
REGISTRY = {
    "name": "widgets-test",
    "commands": [{"id": c, "label": c.title()} for c in COMMANDS],
    "regions": [
        {
            "id": "toolbar",
            "kind": "toolbar",
            "slots": 4,
            "policy": {
                "default_order": COMMANDS,
                "visible": 3,
                "suggested_slots": 1,
                "apply_on": ["page_load"],
            },
        }
    ],
}


@pytest.fixture
def engine(tmp_path):
    registry = Registry.from_dict(REGISTRY)
    eng = Personalizer(url=f"sqlite:///{tmp_path / 'w.db'}", registry=registry, control_percent=0)
    yield eng
    eng.close()


def test_nobody_signed_in_sees_the_designer_layout_whatever_others_used(engine):
    for _ in range(5):
        engine.record_command("alice", "export_pdf", region="toolbar")
    assert "export_pdf" in engine.layout("alice", "toolbar").visible  # alice's own layout adapts
    decided = decide_regions(engine, None, ["toolbar", "gone"], moment=ApplyOn.PAGE_LOAD, drawn={})
    assert list(decided.views) == ["toolbar"]  # a region the registry lacks is skipped
    assert [item.command for item in decided.views["toolbar"].visible] == COMMANDS[:3]


def test_a_region_is_not_decided_again_when_nothing_it_depends_on_changed(engine):
    first = decide_regions(engine, "bob", ["toolbar"], moment=ApplyOn.PAGE_LOAD, drawn={})
    moment = ApplyOn.EVERY_EVENT  # a moment the toolbar's policy allows no change at
    again = decide_regions(engine, "bob", ["toolbar"], moment=moment, drawn=first.keys)
    assert again.views == {}
    engine.pin("bob", region="toolbar", command="export_pdf")
    pinned = decide_regions(engine, "bob", ["toolbar"], moment=moment, drawn=first.keys)
    assert list(pinned.views) == ["toolbar"]


@pytest.mark.parametrize(
    ("action", "state", "steps"),
    [
        ("close", "suggested", ["dismiss"]),
        ("close", "open", ["close"]),
        ("pin", "suggested", ["open", "pin"]),
        ("pin", "pinned", ["unpin"]),
        ("pin", "open", ["pin"]),
        ("reopen", "closed", ["reopen"]),
        ("explode", "open", []),
    ],
)
def test_panel_buttons_map_to_engine_transitions(action, state, steps):
    assert panel_steps(action, state) == steps
