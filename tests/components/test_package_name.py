"""The widget library refers to itself only relatively, so it works under whatever name a
host installs it (a host app may well have a ``components`` package of its own)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import reflex_adaptive

SCRIPT = """
import sys
sys.modules["components"] = None  # any absolute self-import now fails loudly,
sys.modules["reflex_adaptive"] = None  # under the repo folder's name or the installed one
sys.path.insert(0, sys.argv[1])
import renamed_widgets as adaptive
from renamed_widgets.state import AdaptiveState
adaptive.configure(registry=sys.argv[2])
adaptive.adaptive_toolbar("toolbar")
print(AdaptiveState.__module__)
"""

REGISTRY = {
    "name": "renamed",
    "commands": [{"id": "save", "label": "Save"}],
    "regions": [
        {
            "id": "toolbar",
            "kind": "toolbar",
            "slots": 1,
            "policy": {"default_order": ["save"], "visible": 1, "suggested_slots": 0},
        }
    ],
}


def test_the_library_imports_and_renders_under_another_name(tmp_path):
    source = Path(reflex_adaptive.__file__).parent
    shutil.copytree(source, tmp_path / "renamed_widgets", ignore=shutil.ignore_patterns("*.pyc"))
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps(REGISTRY))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), str(registry)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("renamed_widgets.state")
