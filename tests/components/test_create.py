"""Each widget's ``create()``: the props it accepts, the DOM contract it renders, and the
clear error it raises for a bad prop."""

from __future__ import annotations

import pytest
import reflex as rx

import reflex_adaptive as adaptive
from app.registry import demo_registry
from personalization.registry import Registry
from reflex_adaptive import config
from reflex_adaptive.device import device_class


@pytest.fixture(autouse=True)
def _registry():
    config.configure(registry=demo_registry())
    yield
    config.reset_configuration()


class HostState(rx.State):
    last: str = ""

    @rx.event
    def run_command(self, command: str) -> None:
        self.last = command


def js(component: rx.Component) -> str:
    return str(component)


def test_public_names_are_sorted_and_all_importable():
    assert adaptive.__all__ == sorted(adaptive.__all__)
    for name in adaptive.__all__:
        assert getattr(adaptive, name) is not None


@pytest.mark.parametrize(
    ("make", "kind"),
    [(adaptive.adaptive_toolbar, "toolbar"), (adaptive.adaptive_menu, "menu")],
)
def test_toolbar_and_menu_render_the_dom_contract(make, kind):
    out = js(make("toolbar", on_command=HostState.run_command))
    assert '"data-region":"toolbar"' in out
    assert '"data-overflow":"toolbar"' in out
    assert '"data-command"' in out and '"data-reason"' in out
    assert f'"data-adaptive":"{kind}"' in out
    assert "run_command" in out  # the host handler is chained after recording
    assert out.index("adaptive_state.invoke") < out.index("run_command")
    assert "data-skeleton" in out  # a fixed-size placeholder until the layout loads


def test_slots_caps_visible_items_and_moves_the_rest_to_overflow():
    out = js(adaptive.adaptive_toolbar("toolbar", slots=3))
    assert ".slice(undefined, 3)" in out and ".slice(3, undefined)" in out
    assert out.count('className:"adaptive-skeleton-item"') == 3


@pytest.mark.parametrize("slots", [0, -2, True, 2.5, "4"])
def test_non_positive_or_non_integer_slots_are_refused(slots):
    with pytest.raises(ValueError, match=r"adaptive_toolbar: slots must be a positive integer"):
        adaptive.adaptive_toolbar("toolbar", slots=slots)


@pytest.mark.parametrize(
    "make", [adaptive.adaptive_toolbar, adaptive.adaptive_menu, adaptive.personal_controls]
)
def test_unknown_region_is_named_with_the_known_ones(make):
    with pytest.raises(ValueError, match=r"unknown region 'nope'.*known regions: toolbar, menu"):
        make("nope")


def test_region_id_must_be_a_non_empty_string():
    with pytest.raises(TypeError, match="region_id must be a non-empty string"):
        adaptive.adaptive_toolbar("")


def test_on_command_must_be_callable():
    with pytest.raises(TypeError, match="on_command must be an event handler"):
        adaptive.adaptive_toolbar("toolbar", on_command="run")


def test_region_renders_each_child_by_id_and_checks_ids():
    out = js(
        adaptive.adaptive_region(
            "sidebar",
            {"insert_image": rx.text("IMG"), "brightness": rx.text("BRIGHT")},
            direction="row",
        )
    )
    assert '"data-region":"sidebar"' in out and '"data-overflow":"sidebar"' in out
    assert '"data-command":"insert_image"' in out and "BRIGHT" in out
    with pytest.raises(ValueError, match=r"unknown item id\(s\) \['save'\] for region 'sidebar'"):
        adaptive.adaptive_region("sidebar", {"save": rx.text("x")})
    with pytest.raises(ValueError, match="direction must be 'row' or 'column'"):
        adaptive.adaptive_region("sidebar", {"flip": rx.text("x")}, direction="diagonal")
    with pytest.raises(ValueError, match="non-empty mapping"):
        adaptive.adaptive_region("sidebar", {})
    with pytest.raises(TypeError, match=r"children\['flip'\] must be a Reflex component"):
        adaptive.adaptive_region("sidebar", {"flip": "text"})


def test_palette_renders_listbox_with_contract_and_shortcut():
    out = js(adaptive.command_palette(on_command=HostState.run_command))
    assert '"data-palette":""' in out and '"data-palette-trigger":""' in out
    assert 'role:"listbox"' in out and 'role:"option"' in out
    assert '"data-command"' in out
    with pytest.raises(TypeError, match="show_trigger must be a bool"):
        adaptive.command_palette(show_trigger="yes")


def test_task_panels_render_state_and_actions():
    out = js(adaptive.task_panels(on_command=HostState.run_command))
    for attr in ('"data-task-panel"', '"data-task-state"', '"data-action":"close"'):
        assert attr in out
    assert '"data-action":"pin"' in out and '"aria-live":"polite"' in out
    with pytest.raises(TypeError, match="task_panels: label must be a string"):
        adaptive.task_panels(label=3)


def test_controls_offer_level_recording_reset_and_item_toggles():
    out = js(adaptive.personal_controls("toolbar"))
    for control in ("level", "recording", "reset", "pin", "hide"):
        assert f'"data-control":"{control}"' in out
    assert '"data-control":"pin"' not in js(adaptive.personal_controls())


def test_configure_validates_registry_and_arguments(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "commands": [], "regions": [{"id": "r"}]}')
    with pytest.raises(ValueError, match=r"regions\[0\]\.kind: is required"):
        config.configure(registry=bad)
    good = tmp_path / "good.json"
    good.write_text(demo_registry().to_json())
    config.configure(registry=good)
    assert isinstance(config.registry(), Registry) and config.registry().name == "editor-demo"
    with pytest.raises(TypeError, match="user_resolver must be callable"):
        config.configure(user_resolver="alice")


def test_device_class_is_coarse():
    chrome_linux = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/156.0"
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148"
    ipad = "Mozilla/5.0 (iPad; CPU OS 18_0 like Mac OS X) AppleWebKit/605.1.15"
    android_tablet = "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 Safari/537.36"
    assert device_class(chrome_linux) == "desktop"
    assert device_class(iphone) == "mobile"
    assert device_class(ipad) == "tablet"
    assert device_class(android_tablet) == "tablet"
    assert device_class("") == "other"
    assert device_class("curl/8.0") == "other"
