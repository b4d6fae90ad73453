"""Someone else's note-taking app with the adaptive widgets embedded in a few lines.

The app owns its commands (``NotesState.run_command``); the widgets record each use, adapt
the toolbar, menu and side panel, and open the checklist task panel. Identity: the default
anonymous cookie (a real app passes ``user_resolver=`` to ``configure``).
"""

from pathlib import Path

import reflex as rx

import reflex_adaptive as adaptive

adaptive.configure(registry=Path(__file__).with_name("registry.json"))


class NotesState(rx.State):
    last_command: str = ""
    runs: int = 0

    @rx.event
    def run_command(self, command: str) -> None:
        self.last_command = command
        self.runs += 1


def side_card(title: str, text: str) -> rx.Component:
    return rx.card(rx.heading(title, size="2"), rx.text(text, size="1"), width="14rem")


def index() -> rx.Component:
    run = NotesState.run_command
    return rx.container(
        rx.vstack(
            rx.hstack(
                rx.heading("Notes", size="6"),
                rx.spacer(),
                adaptive.command_palette(on_command=run),
                width="100%",
            ),
            rx.hstack(
                adaptive.adaptive_toolbar("toolbar", on_command=run),
                adaptive.adaptive_menu("menu", on_command=run),
                align="start",
                spacing="4",
            ),
            rx.hstack(
                rx.text_area(placeholder="Write here…", width="32rem", height="10rem"),
                adaptive.adaptive_region(
                    "sidebar",
                    {
                        "outline": side_card("Outline", "Headings of this note."),
                        "tags": side_card("Tags", "Tags you gave this note."),
                        "history": side_card("History", "Earlier versions."),
                    },
                ),
                align="start",
                spacing="4",
            ),
            rx.text(
                "Last command: ",
                rx.el.span(NotesState.last_command, data_testid="last-command"),
                size="2",
            ),
            adaptive.personal_controls("toolbar"),
            spacing="4",
            padding_y="1.5em",
        ),
        adaptive.task_panels(on_command=run),
    )


app = rx.App()
app.add_page(index, route="/", title="Notes (adaptive embed example)")
