"""The real host app, built and served once per test session in production mode."""

from __future__ import annotations

import pytest

from tests.support.reflex_server import PROJECT_ROOT, ReflexServer


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, artifacts_dir):
    db = tmp_path_factory.mktemp("appdb") / "app.db"
    server = ReflexServer(
        PROJECT_ROOT,
        artifacts_dir / "app-server.log",
        env={"ADAPTIVE_DB_URL": f"sqlite:///{db}"},
    )
    server.run_module("app.bootstrap")
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_server_errors(request):
    """Every browser test fails if the app logged an error while it ran."""
    yield
    if "app_server" in request.fixturenames:
        server = request.getfixturevalue("app_server")
        errors = server.errors()
        assert not errors, "the app logged errors:\n" + "\n".join(errors)
