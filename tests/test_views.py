"""The views' JSON: nested views as objects, tuples as lists, so it survives a JSON trip."""

from __future__ import annotations

import json

from personalization.engine.views import PaletteEntry, PanelView, StepView


def test_panel_view_json_nests_steps_as_a_list_of_objects() -> None:
    step = StepView(ref="crop", kind="command", label="Crop", done=True)
    view = PanelView("t1", "Edit", "open", (step,), 0.5, False, "TASK_STARTED")
    data = view.to_dict()
    assert data["steps"] == [{"ref": "crop", "kind": "command", "label": "Crop", "done": True}]
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {"task_id", "title", "state", "steps", "progress", "pinned", "reason"}


def test_palette_entry_json_has_every_field() -> None:
    entry = PaletteEntry("crop", "Crop", "edit", "crop", 0.3, True, "USER_HIDDEN", "Hidden.")
    assert entry.to_dict()["hidden"] is True
    assert len(entry.to_dict()) == 8
