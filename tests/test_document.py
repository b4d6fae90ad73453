"""The workspace document (``app/document.py``): every command of the registry has a real,
visible effect, and undo/redo walk those effects back and forth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from app.document import EFFECTS, UNDOABLE_EXCLUDED, Doc, Editor, sample
from app.registry import demo_registry

REGISTRY_COMMANDS = [c.id for c in demo_registry().commands]
HISTORY = {"undo", "redo"}


def working_doc() -> Doc:
    """A document where every command has something to act on: a table, a clipboard
    holding that table, and the first paragraph selected."""
    editor = Editor(sample())
    editor.run("insert_table")
    editor.run("copy")
    return replace(editor.select(1), status="Ready.")


def content(doc: Doc) -> Doc:
    """The document without its status line: a command must change more than a message."""
    return replace(doc, status="")


def test_every_registry_command_has_an_effect_in_the_editor():
    missing = sorted(set(REGISTRY_COMMANDS) - set(EFFECTS) - HISTORY)
    assert not missing, f"registry commands with no effect in the editor: {missing}"


@pytest.mark.parametrize("command", sorted(set(REGISTRY_COMMANDS) - HISTORY))
def test_every_registry_command_changes_the_document(command):
    before = working_doc()
    after = Editor(before).run(command)
    assert content(after) != content(before), f"{command} left the document as it was"
    assert after.status != before.status, f"{command} did not say what it did"


def _table(doc: Doc):
    return next(b for b in doc.blocks if b.kind == "table")


EXPECTED: dict[str, Callable[[Doc, Doc], bool]] = {
    "new": lambda b, a: a.name == "Untitled" and len(a.blocks) == 2,
    "open": lambda b, a: a.name == "Quarterly report" and len(a.blocks) == len(b.blocks) - 1,
    "save": lambda b, a: a.saved_version == b.saved_version + 1,
    "save_as": lambda b, a: a.name == f"Copy of {b.name}" and a.saved_version == 1,
    "export_pdf": lambda b, a: a.exports == [f"{b.name}.pdf"],
    "export_png": lambda b, a: a.exports == [f"{b.name}.png"],
    "print": lambda b, a: a.printed == b.printed + 1,
    "cut": lambda b, a: len(a.blocks) == len(b.blocks) - 1 and a.clipboard == b.blocks[1],
    "copy": lambda b, a: a.clipboard == b.blocks[1],
    "paste": lambda b, a: sum(x.kind == "table" for x in a.blocks) == 2,
    "find": lambda b, a: (
        [x.match for x in a.blocks] == ["report" in x.text.lower() for x in a.blocks]
    ),
    "replace": lambda b, a: (
        "summary" in a.blocks[0].text.lower()
        and not any("report" in x.text.lower() for x in a.blocks)
    ),
    "crop": lambda b, a: a.picture.cropped and not b.picture.cropped,
    "resize": lambda b, a: a.picture.scale == 75,
    "rotate": lambda b, a: a.picture.rotation == 90,
    "flip": lambda b, a: a.picture.flipped,
    "brightness": lambda b, a: a.picture.brightness == 130,
    "filter": lambda b, a: a.picture.filter == "grayscale",
    "insert_table": lambda b, a: sum(x.kind == "table" for x in a.blocks) == 2,
    "table_rows": lambda b, a: len(_table(a).cells) == len(_table(b).cells) + 1,
    "table_style": lambda b, a: _table(a).style == "striped",
    "insert_image": lambda b, a: a.blocks[a.selected].kind == "image",
    "insert_link": lambda b, a: a.blocks[a.selected].kind == "link",
    "insert_comment": lambda b, a: a.blocks[a.selected].kind == "comment",
    "bold": lambda b, a: a.blocks[1].bold,
    "italic": lambda b, a: a.blocks[1].italic,
    "heading": lambda b, a: a.blocks[1].kind == "heading",
    "align": lambda b, a: a.blocks[1].align == "center",
    "share": lambda b, a: a.share_open,
    "share_invite": lambda b, a: a.invited == ["maria@example.org"],
    "share_link": lambda b, a: a.share_link.startswith("https://docs.example.org/d/"),
    "share_permissions": lambda b, a: a.permission == "can comment",
}


def test_expectations_cover_every_effect():
    assert set(EXPECTED) == set(EFFECTS)


@pytest.mark.parametrize("command", sorted(EXPECTED))
def test_command_has_its_specific_effect(command):
    before = working_doc()
    after = Editor(before).run(command)
    assert EXPECTED[command](before, after), f"{command}: unexpected result {after.status!r}"


def test_commands_do_not_change_the_document_they_were_given():
    before = working_doc()
    snapshot = replace(before, blocks=[replace(b) for b in before.blocks])
    for command in EFFECTS:
        Editor(before).run(command)
    assert before == snapshot


def test_undo_restores_and_redo_reapplies():
    editor = Editor(working_doc())
    start = content(editor.doc)
    editor.run("bold")
    bolded = content(editor.doc)
    editor.run("rotate")

    editor.run("undo")
    assert content(editor.doc).picture.rotation == 0
    assert editor.doc.blocks[1].bold
    editor.run("undo")
    assert content(editor.doc) == start
    assert editor.doc.status == "Undone."

    editor.run("redo")
    assert content(editor.doc) == bolded
    editor.run("redo")
    assert editor.doc.picture.rotation == 90 and editor.doc.status == "Redone."
    assert editor.run("redo").status == "Nothing to redo."


def test_a_new_command_clears_redo():
    editor = Editor(working_doc())
    editor.run("bold")
    editor.run("undo")
    editor.run("italic")
    after = editor.run("redo")
    assert after.status == "Nothing to redo."
    assert not after.blocks[1].bold and after.blocks[1].italic


def test_nothing_to_undo_on_a_fresh_document():
    doc = sample()
    after = Editor(doc).run("undo")
    assert after.status == "Nothing to undo."
    assert content(after) == content(doc)


@pytest.mark.parametrize("command", sorted(UNDOABLE_EXCLUDED))
def test_commands_that_do_not_edit_are_not_undone(command):
    editor = Editor(working_doc())
    editor.run("bold")
    editor.run(command)
    editor.run("undo")  # undoes the bold, not the save/export/print/copy/find
    assert not editor.doc.blocks[1].bold


def test_undo_keeps_exports_already_written():
    editor = Editor(working_doc())
    editor.run("rotate")
    editor.run("export_pdf")
    after = editor.run("undo")
    assert after.picture.rotation == 0
    assert after.exports == ["Quarterly report.pdf"]


def test_undo_history_is_bounded():
    editor = Editor(working_doc(), depth=3)
    for _ in range(5):
        editor.run("rotate")
    for _ in range(3):
        editor.run("undo")
    assert editor.doc.picture.rotation == (5 - 3) * 90
    assert editor.run("undo").status == "Nothing to undo."


def test_undo_stacks_can_live_outside_the_editor():
    """The workspace keeps the stacks in its state between events."""
    undo: list[Doc] = []
    redo: list[Doc] = []
    doc = Editor(working_doc(), undo=undo, redo=redo).run("flip")
    assert len(undo) == 1
    doc = Editor(doc, undo=undo, redo=redo).run("undo")
    assert not doc.picture.flipped and len(redo) == 1


def test_unknown_command_is_refused_by_name():
    with pytest.raises(KeyError, match="'teleport'"):
        Editor(sample()).run("teleport")


def test_select_and_find_text_are_bounded_to_the_document():
    editor = Editor(sample())
    assert editor.select(99).selected == sample().selected  # out of range: unchanged
    assert editor.select(0).selected == 0
    doc = editor.set_find("quarter", "period")
    doc = Editor(doc).run("replace")
    assert "period" in doc.blocks[0].text.lower() or "period" in doc.blocks[3].text.lower()
    assert not any("quarter" in b.text.lower() for b in doc.blocks)
