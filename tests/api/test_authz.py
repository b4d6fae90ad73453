"""Authorisation matrix over real HTTP: every route in the OpenAPI document, tried with no
credential, garbage, an unknown key, a revoked key, another application's key, a key
lacking the scope and another user's token. All must be refused with 401/403, with the
error body only, and nothing may change."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import ALL
from tests.api.server import ApiServer, create_key, revoke

SCOPE = {  # (method, path) -> the scope it needs; every documented operation must be here
    ("post", "/api/v1/apps/{application}/events"): "ingest",
    ("get", "/api/v1/apps/{application}/users/{user_id}/layout/{region}"): "layout",
    ("get", "/api/v1/apps/{application}/users/{user_id}/predictions"): "layout",
    ("get", "/api/v1/apps/{application}/users/{user_id}/panels"): "layout",
    ("post", "/api/v1/apps/{application}/users/{user_id}/panels/{task_id}"): "layout",
    ("get", "/api/v1/apps/{application}/users/{user_id}/profile"): "user-data",
    ("patch", "/api/v1/apps/{application}/users/{user_id}/profile"): "user-data",
    ("post", "/api/v1/apps/{application}/users/{user_id}/controls"): "user-data",
    ("post", "/api/v1/apps/{application}/users/{user_id}/reset"): "user-data",
    ("get", "/api/v1/apps/{application}/users/{user_id}/export"): "user-data",
    ("delete", "/api/v1/apps/{application}/users/{user_id}"): "user-data",
    ("post", "/api/v1/apps/{application}/users/{user_id}/tokens"): "user-data",
    ("get", "/api/v1/registry"): "registry",
    ("get", "/api/v1/registry/versions"): "registry",
    ("put", "/api/v1/registry"): "registry",
    ("get", "/api/v1/me"): None,  # any valid credential
}
PUBLIC = {("get", "/api/v1/health"), ("get", "/api/v1/ready")}
BODIES = {
    "/api/v1/apps/{application}/events": {
        "events": [{"client_event_id": "m1", "user_id": "alice", "command": "save"}]
    },
    "/api/v1/apps/{application}/users/{user_id}/panels/{task_id}": {"action": "open"},
    "/api/v1/apps/{application}/users/{user_id}/controls": {
        "action": "hide",
        "region": "toolbar",
        "command": "export_pdf",
    },
    "/api/v1/apps/{application}/users/{user_id}/tokens": {},
}
PARAMS = {"application": "shop", "user_id": "alice", "region": "toolbar", "task_id": "share"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("authz")
    server = ApiServer(root / "authz.db", root / "server.log")
    owner = create_key(server.db_url, scopes=ALL)
    creds = {
        "other application": create_key(server.db_url, scopes=ALL, application="rival"),
        "revoked": create_key(server.db_url, scopes=ALL),
    }
    revoke(server.db_url, creds["revoked"])
    for scope in ALL:
        creds[f"no {scope}"] = create_key(server.db_url, scopes=tuple(s for s in ALL if s != scope))
    server.start()
    try:
        owner_http = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {owner}"}, timeout=30
        )
        marker = "secret_marker_cmd"
        events = [
            {"client_event_id": f"a{i}", "user_id": "alice", "command": marker} for i in (1, 2)
        ]
        assert (
            owner_http.post("/api/v1/apps/shop/events", json={"events": events}).json()["accepted"]
            == 2
        )
        bob_token = owner_http.post(
            "/api/v1/apps/shop/users/bob/tokens", json={"scopes": ["user-data", "layout"]}
        ).json()["token"]
        creds["another user's token"] = bob_token
        spec = owner_http.get("/api/v1/openapi.json").json()
        registry = owner_http.get("/api/v1/registry").json()
        yield {
            "server": server,
            "owner": owner_http,
            "creds": creds,
            "spec": spec,
            "registry": registry,
            "marker": marker,
        }
        owner_http.close()
    finally:
        server.stop()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m, p) for p, ops in spec["paths"].items() for m in ops]


def _request(world: dict[str, Any], method: str, path: str, credential: str | None):
    url = re.sub(r"\{(\w+)\}", lambda m: PARAMS[m.group(1)], path)
    body = BODIES.get(path)
    if path == "/api/v1/registry" and method == "put":
        body = world["registry"]
    if path.endswith("/profile") and method == "patch":
        body = {"recording": False}
    headers = {} if credential is None else {"Authorization": f"Bearer {credential}"}
    return httpx.request(
        method.upper(), world["server"].url + url, headers=headers, json=body, timeout=30
    )


def test_every_documented_route_is_in_the_matrix(world: dict[str, Any]) -> None:
    assert set(_operations(world["spec"])) == set(SCOPE) | PUBLIC


def _attempts(world: dict[str, Any], method: str, path: str) -> list[tuple[str, str | None, int]]:
    """(label, credential, expected status) for one operation."""
    creds = world["creds"]
    garbage = f"ark_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
    out: list[tuple[str, str | None, int]] = [
        ("no credential", None, 401),
        ("garbage", "let-me-in", 401),
        ("unknown key", garbage, 401),
        ("revoked", creds["revoked"], 401),
    ]
    scope = SCOPE[(method, path)]
    if "{application}" in path:
        out.append(("other application", creds["other application"], 403))
    if scope is not None:
        out.append((f"no {scope}", creds[f"no {scope}"], 403))
    if "{user_id}" in path or scope in ("ingest", "registry"):
        out.append(("another user's token", creds["another user's token"], 403))
    return out


def test_refusals_everywhere_and_nothing_leaks_or_changes(world: dict[str, Any]) -> None:
    owner: httpx.Client = world["owner"]
    before = owner.get("/api/v1/apps/shop/users/alice/export").json()["tables"]
    versions = owner.get("/api/v1/registry/versions").json()
    secrets_seen = [c for c in world["creds"].values()]
    tried = 0
    for method, path in sorted(SCOPE):
        for label, credential, expected in _attempts(world, method, path):
            response = _request(world, method, path, credential)
            tried += 1
            where = f"{method.upper()} {path} with {label}"
            assert response.status_code == expected, f"{where}: {response.text}"
            body = response.json()
            assert set(body) == {"error"}, where
            text = response.text
            assert world["marker"] not in text and "alice" not in text, where
            assert not any(s in text for s in secrets_seen), where
    assert tried >= 80
    after = owner.get("/api/v1/apps/shop/users/alice/export").json()["tables"]
    assert after["usage_event"] == before["usage_event"]
    assert after["user_profile"] == before["user_profile"]
    assert owner.get("/api/v1/registry/versions").json() == versions


def test_the_rightful_caller_gets_through(world: dict[str, Any]) -> None:
    """The matrix is not passing merely because everything is refused."""
    owner_key = world["owner"].headers["Authorization"].split()[1]
    for method, path in sorted(SCOPE):
        if method == "delete" or (method, path) == (
            "post",
            "/api/v1/apps/{application}/users/{user_id}/panels/{task_id}",
        ):
            continue  # destructive / needs an offered panel: covered in test_routes
        response = _request(world, method, path, owner_key)
        assert response.status_code == 200, f"{method} {path}: {response.text}"


def test_a_user_token_reads_its_own_data_only(world: dict[str, Any]) -> None:
    token = world["creds"]["another user's token"]  # bob's
    own = httpx.get(
        world["server"].url + "/api/v1/apps/shop/users/bob/export",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert own.status_code == 200
    assert own.json()["user_id"] == "shop:bob"
