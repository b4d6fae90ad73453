"""The embedding example (examples/embed), built and served once per session in production
mode on a throw-away database, exactly as someone else's app would run it."""

from __future__ import annotations

import pytest

from tests.support.reflex_server import PROJECT_ROOT, ReflexServer

EMBED_ROOT = PROJECT_ROOT / "examples" / "embed"


@pytest.fixture(scope="session")
def embed_server(tmp_path_factory, artifacts_dir):
    db = tmp_path_factory.mktemp("embeddb") / "embed.db"
    server = ReflexServer(
        EMBED_ROOT,
        artifacts_dir / "embed-server.log",
        # No control group here: every test user must see adaptation.
        env={"ADAPTIVE_DB_URL": f"sqlite:///{db}", "ADAPTIVE_CONTROL_PERCENT": "0"},
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_server_errors(request):
    """Every test fails if the example app logged an error while it ran."""
    yield
    if "embed_server" in request.fixturenames:
        errors = request.getfixturevalue("embed_server").errors()
        assert not errors, "the example app logged errors:\n" + "\n".join(errors)
