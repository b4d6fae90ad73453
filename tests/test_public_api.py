"""``personalization``'s public names: complete, lazy, and one error tree with the old
import paths and builtin bases still working."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import personalization
from personalization import errors
from personalization.registry import Registry

HEAVY = ("personalization.engine", "sklearn", "sqlmodel")


def test_public_names_are_sorted_and_all_resolve() -> None:
    assert personalization.__all__ == sorted(personalization.__all__)
    for name in personalization.__all__:
        assert getattr(personalization, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = personalization.nope


def test_importing_the_sdk_and_the_package_loads_no_engine() -> None:
    """Run in a fresh interpreter: this one has loaded the engine long ago. Touching
    ``Personalizer`` afterwards shows the check sees an engine import when there is one."""
    script = f"""
import json, sys
import personalization.client, personalization
heavy = {HEAVY!r}
loaded = lambda: sorted(m for m in heavy if m in sys.modules)
before = loaded()
personalization.Personalizer
print(json.dumps({{"before": before, "after": loaded()}}))
"""
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    modules = json.loads(run.stdout)
    assert modules["before"] == []
    assert {"personalization.engine", "sqlmodel"} <= set(modules["after"])  # sklearn: on use


def test_every_engine_error_is_public_and_a_personalization_error() -> None:
    defined = {
        name
        for name, obj in vars(errors).items()
        if not name.startswith("_")
        and isinstance(obj, type)
        and issubclass(obj, Exception)
        and obj.__module__ == errors.__name__
    }
    assert defined == set(errors.__all__)
    assert defined <= set(personalization.__all__)
    for name in defined:
        assert issubclass(getattr(errors, name), errors.PersonalizationError)


@pytest.mark.parametrize(
    ("module", "name", "builtin"),
    [
        ("personalization.registry", "RegistryError", ValueError),
        ("personalization.profile", "ControlError", ValueError),
        ("personalization.panels.machine", "PanelTransitionError", RuntimeError),
        ("personalization.store.models", "ModelFormatError", ValueError),
        ("personalization.store.migrate", "SchemaNotMigrated", RuntimeError),
        ("personalization.store.privacy", "UserDataTableError", RuntimeError),
        ("personalization.evaluation.datasets", "LogFormatError", ValueError),
        ("personalization.api.keys", "ApiKeyError", ValueError),
        ("personalization.api.keys", "InvalidKey", ValueError),
        ("personalization.api.keys", "RevokedKey", ValueError),
        ("personalization.api.keys", "UnknownKey", ValueError),
    ],
)
def test_old_import_paths_give_the_same_class_with_its_old_base(
    module: str, name: str, builtin: type[Exception]
) -> None:
    old = getattr(__import__(module, fromlist=[name]), name)
    assert old is getattr(errors, name)
    assert issubclass(old, builtin)


@pytest.mark.parametrize(
    ("look_up", "error", "message"),
    [
        (lambda r: r.region("ribbon"), errors.UnknownRegion, "unknown region 'ribbon'; known: []"),
        (lambda r: r.task("nope"), errors.UnknownTask, "unknown task 'nope'; known: []"),
    ],
)
def test_unknown_ids_raise_typed_key_errors_that_print_plainly(look_up, error, message) -> None:
    with pytest.raises(error) as caught:
        look_up(Registry(name="empty", commands=(), regions=()))
    assert isinstance(caught.value, KeyError)  # callers catching KeyError still do
    assert str(caught.value) == message  # not quoted the way KeyError quotes
