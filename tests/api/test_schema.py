"""schemathesis against the served OpenAPI document (stateless and stateful phases): no
5xx, every status documented, every response matching its schema.

Bounded to a few examples per operation so the run stays well under two minutes. The
application path parameter is fixed to the key's own application; other values are
covered by the authorisation matrix (they are refused with 403 before any input is read).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.api.conftest import LiveApi

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)


def test_schemathesis_finds_no_server_errors_or_schema_mismatches(
    live_api: LiveApi, tmp_path: Path
) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        '[parameters]\n"path.application" = "shop"\n"path.region" = "toolbar"\n'
        '"path.task_id" = "share"\n'
    )
    schemathesis = Path(sys.executable).with_name("schemathesis")
    run = subprocess.run(
        [str(schemathesis), "--config-file", str(config), "--no-color", "run"]
        + [f"{live_api.url}/api/v1/openapi.json", "-H", f"Authorization: Bearer {live_api.key}"]
        + ["--checks", CHECKS, "--max-examples", "5", "--seed", "7", "--workers", "1"]
        + ["--phases", "coverage,fuzzing,stateful"]
        + ["--generation-database", "none", "--suppress-health-check", "all"],
        capture_output=True,
        text=True,
        timeout=170,
        cwd=tmp_path,
    )
    log = live_api.server.log_path.read_text()
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:] + log[-3000:]
    assert "Traceback" not in log, log[-3000:]
