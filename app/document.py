"""The workspace's document and what every command does to it.

Plain data and pure functions (no Reflex), so each of the editor's commands has a real,
visible effect that tests can check without a browser: ``apply(doc, "rotate")`` returns a
new document whose picture is turned 90 degrees. Text typed into the find/replace boxes is
part of the document only; the usage log records the command id, never that text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

ALIGN = ("left", "center", "right")
TABLE_STYLES = ("plain", "striped", "grid")
FILTERS = ("none", "grayscale", "sepia", "invert")
BRIGHTNESS = (100, 130, 70)
SCALES = (100, 75, 50)
PERMISSIONS = ("can view", "can comment", "can edit")
INVITEES = ("maria@example.org", "chen@example.org", "sam@example.org", "lee@example.org")


@dataclass
class Block:
    id: int
    kind: str  # heading | paragraph | table | image | link | comment
    text: str = ""
    bold: bool = False
    italic: bool = False
    align: str = "left"
    cells: list[list[str]] = field(default_factory=list)
    style: str = "plain"
    match: bool = False  # highlighted by the last Find


@dataclass
class Picture:
    rotation: int = 0
    flipped: bool = False
    brightness: int = 100
    filter: str = "none"
    cropped: bool = False
    scale: int = 100

    @property
    def css_filter(self) -> str:
        parts = [f"brightness({self.brightness}%)"]
        if self.filter != "none":
            parts.append(f"{self.filter}(1)")
        return " ".join(parts)


@dataclass
class Doc:
    name: str = "Quarterly report"
    blocks: list[Block] = field(default_factory=list)
    selected: int = 0  # index into blocks
    picture: Picture = field(default_factory=Picture)
    invited: list[str] = field(default_factory=list)
    permission: str = "can view"
    share_open: bool = False
    share_link: str = ""
    exports: list[str] = field(default_factory=list)
    saved_version: int = 0
    printed: int = 0  # copies sent to the printer
    dirty: bool = False
    clipboard: Block | None = None
    status: str = "Ready."
    next_id: int = 100
    find_text: str = "report"
    replace_text: str = "summary"


def sample() -> Doc:
    """The document a person finds on opening the workspace."""
    blocks = [
        Block(1, "heading", "Quarterly report"),
        Block(2, "paragraph", "Sales grew in every region this quarter; the report explains why."),
        Block(3, "image", "Harbour at dawn"),
        Block(4, "paragraph", "Next quarter we focus on the new product line."),
    ]
    return Doc(blocks=blocks, selected=1, status="Opened Quarterly report.")


def blank() -> Doc:
    return Doc(
        name="Untitled",
        blocks=[Block(1, "heading", "Untitled"), Block(2, "paragraph", "Start writing here.")],
        selected=1,
        status="New document.",
    )


def _copy(doc: Doc) -> Doc:
    return replace(
        doc,
        blocks=[replace(b, cells=[list(r) for r in b.cells]) for b in doc.blocks],
        picture=replace(doc.picture),
        invited=list(doc.invited),
        exports=list(doc.exports),
    )


def _current(doc: Doc) -> Block | None:
    if 0 <= doc.selected < len(doc.blocks):
        return doc.blocks[doc.selected]
    return None


def _cycle(values: tuple, current: object) -> object:
    i = values.index(current) if current in values else -1
    return values[(i + 1) % len(values)]


def _insert(doc: Doc, block: Block) -> None:
    at = min(doc.selected + 1, len(doc.blocks))
    doc.blocks.insert(at, block)
    doc.selected = at
    doc.next_id += 1


def _last_table(doc: Doc) -> Block | None:
    cur = _current(doc)
    if cur is not None and cur.kind == "table":
        return cur
    return next((b for b in reversed(doc.blocks) if b.kind == "table"), None)


# ------------------------------------------------------------------------ command effects


def _new(doc: Doc) -> None:
    fresh = blank()
    doc.name, doc.blocks, doc.selected, doc.picture = "Untitled", fresh.blocks, 1, Picture()
    doc.status = "New document."


def _open(doc: Doc) -> None:
    fresh = sample()
    doc.name, doc.blocks, doc.selected, doc.picture = fresh.name, fresh.blocks, 1, Picture()
    doc.status = "Opened Quarterly report."


def _save(doc: Doc) -> None:
    doc.saved_version += 1
    doc.status = f"Saved {doc.name} (version {doc.saved_version})."


def _save_as(doc: Doc) -> None:
    doc.name = f"Copy of {doc.name}"
    _save(doc)


def _export(ext: str) -> Callable[[Doc], None]:
    def run(doc: Doc) -> None:
        doc.exports.append(f"{doc.name}.{ext}")
        doc.status = f"Exported {doc.name}.{ext}."

    return run


def _print(doc: Doc) -> None:
    pages = max(1, len(doc.blocks) // 3)
    doc.printed += 1
    doc.status = f"Sent {doc.name} to the printer ({pages} page{'s' if pages > 1 else ''})."


def _cut(doc: Doc) -> None:
    cur = _current(doc)
    if cur is None or len(doc.blocks) <= 1:
        doc.status = "Nothing to cut."
        return
    doc.clipboard = replace(cur)
    del doc.blocks[doc.selected]
    doc.selected = max(0, doc.selected - 1)
    doc.status = "Cut the selected block."


def _copy_block(doc: Doc) -> None:
    cur = _current(doc)
    doc.clipboard = replace(cur, cells=[list(r) for r in cur.cells]) if cur else None
    doc.status = "Copied the selected block." if cur else "Nothing to copy."


def _paste(doc: Doc) -> None:
    if doc.clipboard is None:
        doc.status = "The clipboard is empty."
        return
    clip = doc.clipboard
    _insert(doc, replace(clip, id=doc.next_id, cells=[list(r) for r in clip.cells]))
    doc.status = "Pasted."


def _find(doc: Doc) -> None:
    needle = doc.find_text.strip().lower()
    hits = 0
    for b in doc.blocks:
        b.match = bool(needle) and needle in b.text.lower()
        hits += b.match
    doc.status = f"Found {hits} block{'s' if hits != 1 else ''} with {doc.find_text!r}."


def _replace(doc: Doc) -> None:
    needle = doc.find_text.strip()
    count = 0
    if needle:
        for b in doc.blocks:
            n = b.text.lower().count(needle.lower())
            if n:
                count += n
                b.text = _replace_ci(b.text, needle, doc.replace_text)
    doc.status = f"Replaced {count} occurrence{'s' if count != 1 else ''}."


def _replace_ci(text: str, needle: str, new: str) -> str:
    out, low, i = [], text.lower(), 0
    while (j := low.find(needle.lower(), i)) >= 0:
        out.append(text[i:j] + new)
        i = j + len(needle)
    return "".join(out) + text[i:]


def _picture(change: Callable[[Picture], str]) -> Callable[[Doc], None]:
    def run(doc: Doc) -> None:
        doc.status = change(doc.picture)

    return run


def _rotate(p: Picture) -> str:
    p.rotation = (p.rotation + 90) % 360
    return f"Rotated the picture to {p.rotation}°."


def _flip(p: Picture) -> str:
    p.flipped = not p.flipped
    return "Flipped the picture." if p.flipped else "Picture flipped back."


def _brightness(p: Picture) -> str:
    p.brightness = int(_cycle(BRIGHTNESS, p.brightness))  # type: ignore[call-overload]
    return f"Brightness {p.brightness}%."


def _filter(p: Picture) -> str:
    p.filter = str(_cycle(FILTERS, p.filter))
    return f"Filter: {p.filter}."


def _crop(p: Picture) -> str:
    p.cropped = not p.cropped
    return "Cropped the picture to its centre." if p.cropped else "Crop removed."


def _resize(p: Picture) -> str:
    p.scale = int(_cycle(SCALES, p.scale))  # type: ignore[call-overload]
    return f"Picture resized to {p.scale}%."


def _insert_table(doc: Doc) -> None:
    cells = [["Region", "Q1", "Q2"], ["North", "12", "15"]]
    _insert(doc, Block(doc.next_id, "table", "Table", cells=cells))
    doc.status = "Inserted a table."


def _table_rows(doc: Doc) -> None:
    table = _last_table(doc)
    if table is None:
        doc.status = "Insert a table first."
        return
    n = len(table.cells)
    table.cells.append([f"Row {n}"] + ["0"] * (len(table.cells[0]) - 1 if table.cells else 2))
    doc.status = f"The table now has {len(table.cells)} rows."


def _table_style(doc: Doc) -> None:
    table = _last_table(doc)
    if table is None:
        doc.status = "Insert a table first."
        return
    table.style = str(_cycle(TABLE_STYLES, table.style))
    doc.status = f"Table style: {table.style}."


def _insert_image(doc: Doc) -> None:
    _insert(doc, Block(doc.next_id, "image", "Picture"))
    doc.status = "Inserted a picture."


def _insert_link(doc: Doc) -> None:
    _insert(doc, Block(doc.next_id, "link", "https://example.org/report"))
    doc.status = "Inserted a link."


def _insert_comment(doc: Doc) -> None:
    n = sum(b.kind == "comment" for b in doc.blocks) + 1
    _insert(doc, Block(doc.next_id, "comment", f"Comment {n}: please check these numbers."))
    doc.status = "Added a comment."


def _toggle(attr: str, label: str) -> Callable[[Doc], None]:
    def run(doc: Doc) -> None:
        cur = _current(doc)
        if cur is None:
            doc.status = "Select a block first."
            return
        setattr(cur, attr, not getattr(cur, attr))
        doc.status = f"{label} {'on' if getattr(cur, attr) else 'off'}."

    return run


def _heading(doc: Doc) -> None:
    cur = _current(doc)
    if cur is None or cur.kind not in ("heading", "paragraph"):
        doc.status = "Select a paragraph to make it a heading."
        return
    cur.kind = "paragraph" if cur.kind == "heading" else "heading"
    doc.status = "Made a heading." if cur.kind == "heading" else "Made a paragraph."


def _align(doc: Doc) -> None:
    cur = _current(doc)
    if cur is None:
        doc.status = "Select a block first."
        return
    cur.align = str(_cycle(ALIGN, cur.align))
    doc.status = f"Aligned {cur.align}."


def _share(doc: Doc) -> None:
    doc.share_open = True
    doc.status = "Sharing: invite people and set their permission."


def _share_invite(doc: Doc) -> None:
    doc.share_open = True
    who = next((p for p in INVITEES if p not in doc.invited), None)
    if who is None:
        doc.status = "Everyone in your team is already invited."
        return
    doc.invited.append(who)
    doc.status = f"Invited {who}."


def _share_link(doc: Doc) -> None:
    doc.share_open = True
    digest = hashlib.sha256(doc.name.encode()).hexdigest()[:8]
    doc.share_link = f"https://docs.example.org/d/{digest}"
    doc.status = "Share link ready."


def _share_permissions(doc: Doc) -> None:
    doc.share_open = True
    doc.permission = str(_cycle(PERMISSIONS, doc.permission))
    doc.status = f"People you invite {doc.permission}."


EFFECTS: dict[str, Callable[[Doc], None]] = {
    "new": _new,
    "open": _open,
    "save": _save,
    "save_as": _save_as,
    "export_pdf": _export("pdf"),
    "export_png": _export("png"),
    "print": _print,
    "cut": _cut,
    "copy": _copy_block,
    "paste": _paste,
    "find": _find,
    "replace": _replace,
    "crop": _picture(_crop),
    "resize": _picture(_resize),
    "rotate": _picture(_rotate),
    "flip": _picture(_flip),
    "brightness": _picture(_brightness),
    "filter": _picture(_filter),
    "insert_table": _insert_table,
    "table_rows": _table_rows,
    "table_style": _table_style,
    "insert_image": _insert_image,
    "insert_link": _insert_link,
    "insert_comment": _insert_comment,
    "bold": _toggle("bold", "Bold"),
    "italic": _toggle("italic", "Italic"),
    "heading": _heading,
    "align": _align,
    "share": _share,
    "share_invite": _share_invite,
    "share_link": _share_link,
    "share_permissions": _share_permissions,
}
UNDOABLE_EXCLUDED = frozenset({"save", "export_pdf", "export_png", "print", "copy", "find"})


class Editor:
    """A document with undo/redo. ``undo`` and ``redo`` are commands like any other."""

    def __init__(
        self,
        doc: Doc | None = None,
        *,
        undo: list[Doc] | None = None,
        redo: list[Doc] | None = None,
        depth: int = 50,
    ) -> None:
        self.doc = doc or sample()
        self.depth = depth
        self.undo_stack: list[Doc] = undo if undo is not None else []
        self.redo_stack: list[Doc] = redo if redo is not None else []

    def run(self, command: str) -> Doc:
        if command == "undo":
            return self._step(self.undo_stack, self.redo_stack, "Undone.", "Nothing to undo.")
        if command == "redo":
            return self._step(self.redo_stack, self.undo_stack, "Redone.", "Nothing to redo.")
        effect = EFFECTS.get(command)
        if effect is None:
            raise KeyError(f"command {command!r} has no effect in this editor")
        before = _copy(self.doc)
        after = _copy(self.doc)
        effect(after)
        if command not in UNDOABLE_EXCLUDED:
            self.undo_stack.append(before)
            del self.undo_stack[: -self.depth]
            self.redo_stack.clear()
            after.dirty = True
        self.doc = after
        return after

    def _step(self, source: list[Doc], target: list[Doc], done: str, empty: str) -> Doc:
        if not source:
            self.doc = replace(_copy(self.doc), status=empty)
            return self.doc
        target.append(_copy(self.doc))
        restored = source.pop()
        self.doc = replace(restored, status=done, exports=list(self.doc.exports))
        return self.doc

    def select(self, index: int) -> Doc:
        if 0 <= index < len(self.doc.blocks):
            self.doc = replace(_copy(self.doc), selected=index)
        return self.doc

    def set_find(self, find_text: str, replace_text: str) -> Doc:
        self.doc = replace(_copy(self.doc), find_text=find_text, replace_text=replace_text)
        return self.doc
