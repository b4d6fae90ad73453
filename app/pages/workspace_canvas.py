"""The document canvas: every command's effect is visible here."""

from __future__ import annotations

import reflex as rx

from app.document import Block
from app.pages.workspace_state import WorkspaceState

S = WorkspaceState


def _text_style(block: Block) -> dict:
    return {
        "font_weight": rx.cond(block.bold, "700", "400"),
        "font_style": rx.cond(block.italic, "italic", "normal"),
        "text_align": block.align,
    }


def _picture(caption: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.box(
            rx.image(
                src="/harbour.svg",
                alt="Harbour at dawn",
                width="320px",
                height="200px",
                style={
                    "transform": S.picture_transform,
                    "filter": S.picture_filter,
                    "clip_path": S.picture_clip,
                    "transition": "transform 0.2s, filter 0.2s",
                },
                data_testid="picture",
                data_rotation=S.doc.picture.rotation,
                data_filter=S.doc.picture.filter,
            ),
            overflow="hidden",
            padding="12px",
        ),
        rx.text(caption, size="1", color_scheme="gray"),
        align="center",
        width="100%",
    )


def _table(block: Block) -> rx.Component:
    return rx.table.root(
        rx.table.body(
            rx.foreach(
                block.cells,
                lambda row, r: rx.table.row(
                    rx.foreach(row, lambda cell: rx.table.cell(cell)),
                    background=rx.cond(
                        (block.style == "striped") & (r % 2 == 1), "var(--accent-3)", "none"
                    ),
                ),
            )
        ),
        variant=rx.cond(block.style == "grid", "surface", "ghost"),
        size="1",
        data_testid="doc-table",
        data_rows=block.cells.length(),
        data_style=block.style,
    )


def _block(block: Block, index: rx.Var) -> rx.Component:
    body = rx.match(
        block.kind,
        ("heading", rx.heading(block.text, size="6", style=_text_style(block))),
        ("table", _table(block)),
        ("image", _picture(block.text)),
        ("link", rx.link(block.text, href="#", style=_text_style(block))),
        (
            "comment",
            rx.callout(block.text, icon="message-square", color_scheme="amber", size="1"),
        ),
        rx.text(block.text, size="3", style=_text_style(block)),
    )
    return rx.box(
        body,
        on_click=S.select_block(index),
        padding="0.4em 0.6em",
        border_radius="6px",
        border=rx.cond(
            S.doc.selected == index, "1px solid var(--accent-8)", "1px solid transparent"
        ),
        background=rx.cond(block.match, "var(--yellow-a4)", "transparent"),
        cursor="text",
        data_kind=block.kind,
        data_testid="doc-block",
        width="100%",
    )


def _share_sheet() -> rx.Component:
    return rx.cond(
        S.doc.share_open,
        rx.card(
            rx.vstack(
                rx.hstack(rx.icon("share-2", size=16), rx.text("Sharing", weight="bold")),
                rx.text("People you invite ", S.doc.permission, ".", size="2"),
                rx.foreach(
                    S.doc.invited,
                    lambda who: rx.badge(who, variant="soft", data_testid="invitee"),
                ),
                rx.cond(S.doc.share_link != "", rx.code(S.doc.share_link)),
                spacing="2",
            ),
            size="1",
            data_testid="share-sheet",
        ),
    )


def canvas() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(S.doc.name, size="4", data_testid="doc-name"),
                rx.cond(
                    S.doc.saved_version > 0,
                    rx.badge("saved v", S.doc.saved_version.to_string(), color_scheme="green"),
                ),
                rx.cond(
                    S.doc.printed > 0,
                    rx.badge("printed ×", S.doc.printed.to_string(), data_testid="printed"),
                ),
                rx.spacer(),
                rx.input(
                    value=S.doc.find_text,
                    on_change=S.set_find_text,
                    placeholder="find",
                    size="1",
                    width="110px",
                    aria_label="Find text",
                ),
                rx.input(
                    value=S.doc.replace_text,
                    on_change=S.set_replace_text,
                    placeholder="replace with",
                    size="1",
                    width="110px",
                    aria_label="Replace with",
                ),
                width="100%",
                align="center",
            ),
            rx.text(
                S.doc.status,
                size="2",
                color_scheme="gray",
                data_testid="doc-status",
                data_handled=S.handled,
            ),
            rx.separator(size="4"),
            rx.foreach(S.doc.blocks, _block),
            _share_sheet(),
            rx.cond(
                S.doc.exports.length() > 0,
                rx.hstack(
                    rx.text("Exports:", size="1", weight="bold"),
                    rx.foreach(S.doc.exports, lambda f: rx.badge(f, data_testid="export")),
                    wrap="wrap",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        min_height="520px",
        data_testid="canvas",
    )
