"""Routes in process (httpx ASGI transport) on a real SQLite file: ingest results, limits,
error shape, user tokens, user data, registry and task panels."""

from __future__ import annotations

import time
from pathlib import Path

from sqlmodel import Session

from personalization.api import ApiSettings
from personalization.api.auth import Principal, mint_token
from personalization.api.errors import CODES
from personalization.api.limits import MAX_BATCH
from tests.api.conftest import LocalApi, local_api

EVENTS = "/api/v1/apps/shop/events"
ALICE = "/api/v1/apps/shop/users/alice"


def error_of(response) -> dict:
    """The error body, checked against the documented code/status table."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert CODES[error["code"]] == response.status_code, body
    assert error["message"]
    return error


def test_a_bad_event_never_sinks_the_good_ones(api: LocalApi) -> None:
    batch = [
        {"client_event_id": "e1", "user_id": "alice", "command": "save", "region": "toolbar"},
        {"client_event_id": "e2", "user_id": "alice", "command": "rm -rf /"},
        {"client_event_id": "e3", "user_id": "bob", "command": "open", "note": "free text"},
        "not an event",
        {"client_event_id": "e4", "user_id": "x" * 64, "command": "open"},
        {"user_id": "bob", "command": "open"},
        {"client_event_id": "e1", "user_id": "alice", "command": "save"},
        {"client_event_id": "e1", "user_id": "bob", "command": "new", "device": "mobile"},
    ]
    response = api.call("POST", EVENTS, key=api.key, json={"events": batch})
    assert response.status_code == 200
    body = response.json()
    got = [(r["status"], r.get("field")) for r in body["results"]]
    assert got == [
        ("accepted", None),
        ("rejected", "command"),
        ("rejected", "note"),
        ("rejected", "(event)"),
        ("rejected", "user_id"),
        ("rejected", "client_event_id"),
        ("duplicate", None),
        ("accepted", None),  # ids are per user: bob's e1 is not alice's e1
    ]
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 5)
    assert all(r["reason"] for r in body["results"] if r["status"] == "rejected")
    assert api.engine.store.count("shop:alice") == 1
    assert api.engine.store.count("shop:bob") == 1

    again = api.call("POST", EVENTS, key=api.key, json={"events": batch[:1]}).json()
    assert again["results"][0]["status"] == "duplicate"
    assert api.engine.store.count() == 2


def test_opted_out_person_is_not_recorded(api: LocalApi) -> None:
    off = api.call("PATCH", f"{ALICE}/profile", key=api.key, json={"recording": False})
    assert off.json()["recording"] is False
    event = {"client_event_id": "x1", "user_id": "alice", "command": "save"}
    body = api.call("POST", EVENTS, key=api.key, json={"events": [event]}).json()
    assert body["results"][0]["status"] == "rejected"
    assert body["results"][0]["field"] == "user_id"
    assert "recording is off" in body["results"][0]["reason"]
    assert api.engine.store.count() == 0


def test_limits_answer_413_and_422_never_500(tmp_path: Path) -> None:
    (tmp_path / "small").mkdir()
    small = local_api(
        tmp_path / "small", ApiSettings(rate_limit="1000/minute", max_body_bytes=4096)
    )
    big = {
        "events": [
            {"client_event_id": f"e{i}", "user_id": "u", "command": "save"} for i in range(100)
        ]
    }
    too_big = small.call("POST", EVENTS, key=small.key, json=big)
    assert too_big.status_code == 413
    assert error_of(too_big)["code"] == "body_too_large"

    assert small.engine.store.count() == 0
    api = local_api(tmp_path)
    events = [{"client_event_id": "e1", "user_id": "u", "command": "save"}]
    too_long = api.call("POST", EVENTS, key=api.key, json={"events": events * (MAX_BATCH + 1)})
    assert too_long.status_code == 422
    assert error_of(too_long)["code"] == "batch_too_long"

    broken = api.call(
        "POST",
        EVENTS,
        key=api.key,
        content=b'{"events": [',
        headers={"content-type": "application/json"},
    )
    assert broken.status_code == 422
    assert error_of(broken)["code"] == "invalid_json"

    long_user = api.call("GET", f"/api/v1/apps/shop/users/{'u' * 64}/profile", key=api.key)
    assert long_user.status_code == 422
    assert error_of(long_user)["field"] == "path.user_id"

    too_many = api.call("GET", f"{ALICE}/predictions", key=api.key, params={"k": 101})
    assert error_of(too_many)["field"] == "query.k"

    unknown = api.call("GET", f"{ALICE}/layout/nowhere", key=api.key)
    assert unknown.status_code == 404
    assert "nowhere" in error_of(unknown)["message"]

    assert error_of(api.call("GET", "/api/v1/no/such/route", key=api.key))["code"] == "not_found"


def test_rate_limit_per_key_with_retry_after(tmp_path: Path) -> None:
    api = local_api(tmp_path, ApiSettings(rate_limit="3/minute"))
    other = api.make_key(("layout",))
    codes = [api.call("GET", "/api/v1/me", key=api.key).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = api.call("GET", "/api/v1/me", key=api.key)
    assert error_of(limited)["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert api.call("GET", "/api/v1/me", key=other).status_code == 200


def test_layout_explains_every_item(api: LocalApi) -> None:
    for i, command in enumerate(["export_pdf"] * 6):
        event = {"client_event_id": f"e{i}", "user_id": "alice", "command": command}
        api.call("POST", EVENTS, key=api.key, json={"events": [event]})
    layout = api.call("GET", f"{ALICE}/layout/toolbar", key=api.key).json()
    region = api.engine.registry.region("toolbar")
    assert {i["command"] for i in layout["items"]} >= set(region.policy.default_order)
    visible = [i for i in layout["items"] if i["visible"]]
    assert len(visible) <= layout["slots"]
    assert sorted(i["position"] for i in visible) == list(range(len(visible)))
    assert all(i["sentence"] and i["reason"] and i["label"] for i in layout["items"])
    assert layout["registry_version"] == api.engine.registry.version

    preds = api.call("GET", f"{ALICE}/predictions", key=api.key, params={"k": 3}).json()
    assert preds["predictions"][0]["command"] == "export_pdf"
    assert len(preds["predictions"]) == 3


def test_user_token_acts_only_for_its_user(api: LocalApi) -> None:
    minted = api.call("POST", f"{ALICE}/tokens", key=api.key, json={"ttl_seconds": 600})
    assert minted.status_code == 200
    token = minted.json()["token"]
    assert minted.json()["scopes"] == ["user-data"]
    assert api.call("GET", f"{ALICE}/profile", key=token).status_code == 200
    assert api.call("GET", f"{ALICE}/export", key=token).status_code == 200
    refusals = {
        "wrong_user": api.call("GET", "/api/v1/apps/shop/users/bob/profile", key=token),
        "missing_scope": api.call("GET", f"{ALICE}/layout/toolbar", key=token),
        "token_not_allowed": api.call("POST", EVENTS, key=token, json={"events": []}),
    }
    for code, response in refusals.items():
        assert error_of(response)["code"] == code
    assert error_of(api.call("POST", f"{ALICE}/tokens", key=token, json={}))["code"] == (
        "token_not_allowed"
    )
    assert error_of(api.call("GET", "/api/v1/registry", key=token))["code"] == ("token_not_allowed")
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert error_of(api.call("GET", f"{ALICE}/profile", key=tampered))["code"] == (
        "invalid_credentials"
    )

    layout_token = api.call(
        "POST", f"{ALICE}/tokens", key=api.key, json={"scopes": ["layout"]}
    ).json()["token"]
    assert api.call("GET", f"{ALICE}/layout/toolbar", key=layout_token).status_code == 200

    ingest_only = api.make_key(("ingest", "user-data"))
    refused = api.call("POST", f"{ALICE}/tokens", key=ingest_only, json={"scopes": ["layout"]})
    assert error_of(refused)["code"] == "missing_scope"


def test_expired_and_revoked_tokens_are_refused(api: LocalApi) -> None:
    key_id = api.key.split("_")[1]
    me = Principal(kind="key", key_id=key_id, application="shop", scopes=frozenset({"user-data"}))
    with Session(api.engine.engine) as session:
        old, _ = mint_token(
            session=session,
            key=me,
            user="alice",
            scopes=frozenset({"user-data"}),
            ttl=60,
            now=time.time() - 120,
        )
    assert error_of(api.call("GET", f"{ALICE}/profile", key=old))["code"] == "expired_token"

    token = api.call("POST", f"{ALICE}/tokens", key=api.key, json={}).json()["token"]
    api.call("GET", "/api/v1/me", key=token)
    from personalization.api import keys

    with Session(api.engine.engine) as session:
        keys.revoke_key(session=session, key_id=key_id)
    for credential in (token, api.key):
        response = api.call("GET", f"{ALICE}/profile", key=credential)
        assert error_of(response)["code"] == "revoked_credentials"


def test_export_then_erase_forgets_events_and_learning(api: LocalApi) -> None:
    events = [
        {"client_event_id": f"e{i}", "user_id": "alice", "command": c}
        for i, c in enumerate(["open", "export_pdf", "open", "export_pdf"])
    ]
    api.call("POST", EVENTS, key=api.key, json={"events": events})
    api.call("GET", f"{ALICE}/layout/toolbar", key=api.key)
    exported = api.call("GET", f"{ALICE}/export", key=api.key).json()
    assert [r["command"] for r in exported["tables"]["usage_event"]] == [
        "open",
        "export_pdf",
        "open",
        "export_pdf",
    ]
    assert all("arguments" not in r for r in exported["tables"]["usage_event"])

    erased = api.call("DELETE", ALICE, key=api.key).json()["deleted"]
    assert erased["usage_event"] == 4
    assert erased["user_layout"] == 1
    after = api.call("GET", f"{ALICE}/export", key=api.key).json()
    assert after["tables"]["usage_event"] == []
    preds = api.call("GET", f"{ALICE}/predictions", key=api.key).json()["predictions"]
    assert all(p["reason"] != "SEQUENCE" for p in preds)


def test_consent_level_and_controls(api: LocalApi) -> None:
    patched = api.call(
        "PATCH", f"{ALICE}/profile", key=api.key, json={"level": "off", "retention_days": 30}
    ).json()
    assert (patched["level"], patched["retention_days"]) == ("off", 30)
    bad = api.call("PATCH", f"{ALICE}/profile", key=api.key, json={"level": "max"})
    assert error_of(bad)["field"] == "body.level"

    pinned = api.call(
        "POST",
        f"{ALICE}/controls",
        key=api.key,
        json={"action": "pin", "region": "toolbar", "command": "export_pdf"},
    ).json()
    assert pinned["pins"] == {"toolbar": ["export_pdf"]}
    hidden = api.call(
        "POST",
        f"{ALICE}/controls",
        key=api.key,
        json={"action": "hide", "region": "toolbar", "command": "export_pdf"},
    ).json()
    assert hidden["hidden"] == {"toolbar": ["export_pdf"]}
    assert "export_pdf" not in hidden["pins"].get("toolbar", [])  # hiding unpins
    unknown = api.call(
        "POST",
        f"{ALICE}/controls",
        key=api.key,
        json={"action": "pin", "region": "nowhere", "command": "save"},
    )
    assert error_of(unknown)["code"] == "unknown_region"

    reset = api.call("POST", f"{ALICE}/reset", key=api.key).json()
    assert reset["pins"] == {}


def test_task_panels_over_http(api: LocalApi) -> None:
    task = next(t for t in api.engine.registry.tasks if t.trigger.command)
    never = api.call("POST", f"{ALICE}/panels/{task.id}", key=api.key, json={"action": "pin"})
    assert error_of(never)["code"] == "invalid_transition"
    unknown = api.call("POST", f"{ALICE}/panels/no_task", key=api.key, json={"action": "open"})
    assert error_of(unknown)["code"] == "unknown_task"

    event = {"client_event_id": "t1", "user_id": "alice", "command": task.trigger.command}
    api.call("POST", EVENTS, key=api.key, json={"events": [event]})
    shown = api.call("GET", f"{ALICE}/panels", key=api.key).json()["panels"]
    assert [p["task_id"] for p in shown] == [task.id]
    assert shown[0]["reason"] and shown[0]["steps"]

    closed = api.call(
        "POST", f"{ALICE}/panels/{task.id}", key=api.key, json={"action": "close"}
    ).json()
    assert closed["panels"] == []
    reopened = api.call(
        "POST", f"{ALICE}/panels/{task.id}", key=api.key, json={"action": "reopen"}
    ).json()
    assert [p["task_id"] for p in reopened["panels"]] == [task.id]


def test_registry_is_validated_and_versioned(api: LocalApi) -> None:
    current = api.call("GET", "/api/v1/registry", key=api.key).json()
    assert current["format"] == "adaptive-registry/1"
    first = api.call("PUT", "/api/v1/registry", key=api.key, json=current).json()["version"]
    again = api.call("PUT", "/api/v1/registry", key=api.key, json=current).json()["version"]
    assert again == first  # unchanged content: no new version
    current = api.call("GET", "/api/v1/registry", key=api.key).json()

    broken = dict(current, regions=[dict(current["regions"][0], slots=-1)])
    refused = api.call("PUT", "/api/v1/registry", key=api.key, json=broken)
    error = error_of(refused)
    assert error["code"] == "invalid_registry"
    assert error["errors"] and all(":" in e for e in error["errors"])

    changed = dict(current, name="editor-v2")
    saved = api.call(
        "PUT", "/api/v1/registry", key=api.key, json=changed, params={"note": "rename"}
    )
    assert saved.json()["version"] == current["version"] + 1
    history = api.call("GET", "/api/v1/registry/versions", key=api.key).json()
    assert [v["note"] for v in history][-1] == "rename"
    assert api.call("GET", "/api/v1/registry", key=api.key).json()["name"] == "editor-v2"


def test_openapi_document_is_served_and_complete(api: LocalApi) -> None:
    spec = api.call("GET", "/api/v1/openapi.json").json()
    assert all(path.startswith("/api/v1/") for path in spec["paths"])
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path.endswith(("/health", "/ready")):
                continue
            statuses = set(operation["responses"])
            assert {"401", "413", "429"} <= statuses, (method, path)


def test_bytes_that_are_not_json_get_422(api: LocalApi) -> None:
    response = api.call(
        "PATCH",
        f"{ALICE}/profile",
        key=api.key,
        content=b"\xff\xfe\x00garbage",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_json"
