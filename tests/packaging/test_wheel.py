"""The wheel, installed as another team would install it: into a fresh virtualenv, beside a
host Reflex app that has top-level ``components`` and ``app`` packages of its own.

The editable install every other test runs on maps the repository folders, so it cannot show
what the wheel really holds (a missing subpackage, data file or dependency, the demo app
shipped as a top-level ``app``). Here the wheel is built from a copy of the checkout (so no
``build/`` folder is left behind and no stale ``build/lib`` leaks into it), installed with its
declared dependencies only, and a host written from the README's "Embedding" section is
compiled with ``reflex export``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.reflex_server import PROJECT_ROOT

# Building, installing from the mirror and a cold npm install: about 75 s with warm pip and
# npm caches, many minutes cold; each subprocess below has its own bound as well.
pytestmark = [pytest.mark.packaging, pytest.mark.timeout(2700)]

LIBRARY = {"personalization": "personalization", "components": "reflex_adaptive"}
DEMO_ONLY = {"reflex-local-auth", "plotly"}


def _source_files() -> list[str]:
    """What a fresh clone plus the working tree's new files hold (not .venv, .web, caches)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (PROJECT_ROOT / name).is_file()]


def _run(cmd: list[str], *, timeout: float, **kwargs) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("source")
    for name in _source_files():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / name, root / name)
    return root


@pytest.fixture(scope="module")
def wheel(source_copy, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run(
        [sys.executable, "-m", "pip", "wheel", str(source_copy), "--no-deps", "-q", "-w", str(out)],
        timeout=600,
    )
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def host_venv(wheel, tmp_path_factory) -> Path:
    """A virtualenv holding only the wheel and what it declares (pip's cache is reused)."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], timeout=120)
    python = venv / "bin" / "python"
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(wheel)],
        timeout=900,
    )
    return venv


def test_the_wheel_holds_the_library_and_nothing_else(wheel, source_copy):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = [
            line.split(":", 1)[1].strip()
            for line in zf.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist:")
        ]
    top_level = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert top_level == {"personalization", "reflex_adaptive"}

    # Every module and data file of the library, under its installed name: a subpackage
    # added to the repository but not to pyproject's package list fails here.
    expected = {
        f"{installed}/{path.relative_to(source_copy / folder).as_posix()}"
        for folder, installed in LIBRARY.items()
        for path in (source_copy / folder).rglob("*")
        if path.is_file()
    }
    assert "personalization/store/migrations/script.py.mako" in expected
    assert expected - names == set()

    declared = [Requirement(r) for r in requires]
    core = {canonicalize_name(r.name) for r in declared if r.marker is None}
    demo = {canonicalize_name(r.name) for r in declared if r.marker and "demo" in str(r.marker)}
    assert not core & DEMO_ONLY, "the library must not pull the demo's dependencies"
    assert demo == DEMO_ONLY
    # Imported by the library itself, so declared directly rather than left to chance.
    assert {"sqlalchemy", "pydantic", "starlette", "typing-extensions", "limits"} <= core
    assert "slowapi" not in core


HOST_RXCONFIG = """
import reflex as rx

config = rx.Config(
    app_name="app",
    telemetry_enabled=False,
    plugins=[rx.plugins.RadixThemesPlugin()],
)
"""

# The host's own widget package, named like the library's folder in our repository.
HOST_COMPONENTS = """
import reflex as rx


def host_card(text: str) -> rx.Component:
    return rx.card(rx.text(text), data_host_card="yes")
"""

HOST_APP = """
from pathlib import Path

import reflex as rx

import reflex_adaptive as adaptive
from components import host_card

adaptive.configure(registry=Path(__file__).with_name("registry.json"))


class HostState(rx.State):
    last: str = ""

    @rx.event
    def run_command(self, command: str) -> None:
        self.last = command


def index() -> rx.Component:
    return rx.vstack(
        adaptive.command_palette(on_command=HostState.run_command),
        adaptive.adaptive_toolbar("toolbar", on_command=HostState.run_command),
        host_card("the host's own component"),
        adaptive.task_panels(on_command=HostState.run_command),
    )


app = rx.App()
app.add_page(index, route="/")
"""


def test_a_host_with_its_own_components_and_app_packages_compiles(host_venv, tmp_path):
    host = tmp_path / "host"
    (host / "app").mkdir(parents=True)
    (host / "components").mkdir()
    (host / "rxconfig.py").write_text(textwrap.dedent(HOST_RXCONFIG))
    (host / "components" / "__init__.py").write_text(
        "from .cards import host_card\n\n__all__ = ['host_card']\n"
    )
    (host / "components" / "cards.py").write_text(HOST_COMPONENTS)
    (host / "app" / "__init__.py").write_text("")
    (host / "app" / "app.py").write_text(HOST_APP)
    shutil.copy(
        PROJECT_ROOT / "examples" / "embed" / "embed_app" / "registry.json",
        host / "app" / "registry.json",
    )
    bin_dir = host_venv / "bin"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "PYTHONPATH", "ADAPTIVE_DB_URL"}
    }
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        REFLEX_USE_NPM="1",
        REFLEX_TELEMETRY_ENABLED="false",
        PYTHONWARNINGS="default",
    )

    where = _run(
        [
            str(bin_dir / "python"),
            "-c",
            "import components, reflex_adaptive, personalization;"
            "print(components.__file__); print(reflex_adaptive.__file__);"
            "print(personalization.__file__)",
        ],
        cwd=host,
        env=env,
        timeout=120,
    ).stdout.split()
    assert where[0] == str(host / "components" / "__init__.py")
    assert all(Path(p).is_relative_to(host_venv) for p in where[1:])

    done = _run(
        [str(bin_dir / "reflex"), "export", "--frontend-only", "--no-zip", "--loglevel", "info"],
        cwd=host,
        env=env,
        timeout=900,
    )
    log = done.stdout + done.stderr
    assert "deprecat" not in log.lower(), log[-4000:]

    # What ships: the production bundle holds the host's own card and the library's widgets.
    bundle = "".join(p.read_text() for p in (host / ".web" / "build" / "client").rglob("*.js"))
    for attribute, value in [
        ("data-host-card", "yes"),
        ("data-region", "toolbar"),
        ("data-palette", ""),
        ("data-adaptive", "task-panels"),
    ]:
        assert re.search(f'"{attribute}":["`]{value}["`]', bundle), f"{attribute} not built"
    assert not (host / "adaptive.db").exists(), "compiling must not create the database"
