"""The SDK: batching, retries with stable ids, bounded buffer, typed results.

Delivery rules are tested with ``httpx.MockTransport`` standing in for the network (a
recording fake server that answers like the real one); the typed results are tested
end to end against the real app in process."""

from __future__ import annotations

import asyncio
import importlib
import json
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from personalization import client as sdk
from personalization.client import (
    ApiError,
    AsyncClient,
    BufferFullError,
    Client,
    DeliveryError,
    RetryPolicy,
)
from tests.api.conftest import local_api

FAST = RetryPolicy(attempts=4, backoff=0.001, max_backoff=0.002, max_retry_after=0.01)


class FakeServer:
    """Answers ingest like the API (per-user idempotent ids) and can fail on cue."""

    def __init__(self, failures: list[Any] | None = None) -> None:
        self.failures = list(failures or [])  # status codes or exceptions, consumed in order
        self.stored: set[tuple[str, str]] = set()
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            headers = {"Retry-After": "0"} if failure == 429 else {}
            body = {"error": {"code": "rate_limited", "message": "slow down", "field": None}}
            return httpx.Response(failure, json=body, headers=headers)
        events = json.loads(request.content)["events"]
        results = []
        for index, event in enumerate(events):
            key = (event["user_id"], event["client_event_id"])
            status = "duplicate" if key in self.stored else "accepted"
            self.stored.add(key)
            results.append({"index": index, "status": status, **{"client_event_id": key[1]}})
        statuses = [r["status"] for r in results]
        return httpx.Response(
            200,
            json={
                "accepted": statuses.count("accepted"),
                "duplicates": statuses.count("duplicate"),
                "rejected": 0,
                "results": results,
            },
        )

    def sent_ids(self, request: httpx.Request) -> list[str]:
        return [e["client_event_id"] for e in json.loads(request.content)["events"]]


def make(server: FakeServer, **options: Any) -> Client:
    options.setdefault("retry", FAST)
    return Client(
        "http://api",
        "ark_test",
        application="shop",
        transport=httpx.MockTransport(server),
        **options,
    )


def test_all_is_sorted_and_complete() -> None:
    assert sdk.__all__ == sorted(sdk.__all__)
    defined = {
        name
        for module in _private_modules(sdk)
        for name, obj in vars(module).items()
        if not name.startswith("_") and isinstance(obj, type) and obj.__module__ == module.__name__
    }
    assert defined == set(sdk.__all__)


def _private_modules(package: ModuleType) -> list[ModuleType]:
    """The package's ``_*`` submodules, where every public class of the SDK is defined."""
    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if info.name.startswith("_")
    ]


def test_events_go_out_in_batches_and_close_flushes() -> None:
    server = FakeServer()
    client = make(server, batch_size=3)
    ids = [client.record("u1", "save", region="toolbar") for _ in range(7)]
    assert len(server.requests) == 2  # two full batches left on their own
    assert client.buffered == 1
    client.close()
    sent = [i for r in server.requests for i in server.sent_ids(r)]
    assert sent == ids
    first = json.loads(server.requests[0].content)["events"][0]
    assert first["region"] == "toolbar" and first["kind"] == "invoke"
    assert server.requests[0].url.path == "/api/v1/apps/shop/events"
    assert server.requests[0].headers["Authorization"] == "Bearer ark_test"


@pytest.mark.parametrize(
    "failure",
    [503, 429, 502, httpx.ConnectError("refused"), httpx.ReadTimeout("slow")],
)
def test_retries_resend_the_same_ids(failure: Any) -> None:
    server = FakeServer([failure, failure])
    with make(server, batch_size=100) as client:
        for i in range(5):
            client.record(f"u{i}", "open")
        result = client.flush()
    assert result.accepted == 5
    assert len(server.requests) == 3
    assert server.sent_ids(server.requests[0]) == server.sent_ids(server.requests[2])


def test_lost_acknowledgement_gives_duplicates_not_copies() -> None:
    server = FakeServer()
    events = [{"client_event_id": f"c{i}", "user_id": "u", "command": "save"} for i in range(4)]
    with make(server) as client:
        first = client.send(events)
        second = client.send(events)  # as if the first answer had been lost
    assert (first.accepted, second.duplicates) == (4, 4)
    assert len(server.stored) == 4


def test_exhausted_retries_keep_events_for_the_next_flush() -> None:
    down = [httpx.ConnectError("down")] * FAST.attempts
    server = FakeServer(down)
    client = make(server, batch_size=10)
    ids = [client.record("u", "save") for _ in range(3)]
    with pytest.raises(DeliveryError, match="no answer after 4 attempt"):
        client.flush()
    assert client.buffered == 3
    assert client.flush().accepted == 3
    assert server.sent_ids(server.requests[-1]) == ids
    client.close()


def test_refusals_are_not_retried_and_say_why() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": "missing_scope", "message": "lacks 'ingest'", "field": None}}
        return httpx.Response(403, json=body)

    client = Client("http://api", "k", transport=httpx.MockTransport(refuse), retry=FAST)
    with pytest.raises(ApiError) as caught:
        client.send([{"client_event_id": "a", "user_id": "u", "command": "save"}])
    assert (caught.value.status, caught.value.code) == (403, "missing_scope")
    client._http.close()


def test_panel_actions_are_not_resent_after_a_network_error() -> None:
    calls: list[httpx.Request] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadError("connection reset")

    client = Client("http://api", "k", transport=httpx.MockTransport(flaky), retry=FAST)
    with pytest.raises(DeliveryError):
        client.panel_action("u", "share", "dismiss")
    assert len(calls) == 1  # "dismiss" twice would count two dismissals
    with pytest.raises(DeliveryError):
        client.profile("u")
    assert len(calls) == 1 + FAST.attempts
    client.close()


def test_full_buffer_raises_or_calls_back() -> None:
    server = FakeServer([httpx.ConnectError("down")] * 100)
    client = make(server, batch_size=2, max_buffer=2, retry=RetryPolicy(attempts=1))
    client.record("u", "a")
    with pytest.raises(DeliveryError):
        client.record("u", "b")  # the batch is full: it tries to send, the network is down
    with pytest.raises(BufferFullError, match="2 events are waiting"):
        client.record("u", "c")

    dropped: list[dict[str, Any]] = []
    spill = make(
        FakeServer([httpx.ConnectError("down")] * 100),
        batch_size=2,
        max_buffer=2,
        on_overflow=dropped.append,
        retry=RetryPolicy(attempts=1),
    )
    spill.record("u", "a")
    with pytest.raises(DeliveryError):
        spill.record("u", "b")
    spill.record("u", "c")
    assert [e["command"] for e in dropped] == ["c"]
    assert spill.buffered == 2


def test_bad_input_is_refused_before_buffering() -> None:
    client = make(FakeServer())
    with pytest.raises(ValueError, match="command: must be an identifier"):
        client.record("u", "rm -rf /")
    with pytest.raises(ValueError, match="user_id: must be a string of 1-63"):
        client.record("u" * 64, "save")
    with pytest.raises(ValueError, match="batch_size"):
        make(FakeServer(), batch_size=5000)
    assert client.buffered == 0


def test_async_client_against_the_real_app(tmp_path: Path) -> None:
    api = local_api(tmp_path)

    async def scenario() -> tuple[Any, ...]:
        transport = httpx.ASGITransport(app=api.app)
        async with AsyncClient(
            "http://api", api.key, application="shop", transport=transport, batch_size=4
        ) as client:
            for _ in range(3):
                await client.record("alice", "export_pdf", region="toolbar")
            await client.record("alice", "open")  # fourth event: the batch leaves now
            layout = await client.layout("alice", "toolbar")
            predictions = await client.predictions("alice", k=2)
            profile = await client.update_profile("alice", level="subtle")
            token = await client.user_token("alice")
            erased = await client.erase_user("alice")
            left = (await client.export_user("alice"))["tables"]["usage_event"]
            with pytest.raises(ApiError) as caught:
                await client.layout("alice", "nowhere")
            return layout, predictions, profile, token, erased, left, caught.value

    layout, predictions, profile, token, erased, left, error = asyncio.run(scenario())
    assert layout.region == "toolbar" and layout.visible
    assert [i.position for i in layout.visible] == list(range(len(layout.visible)))
    assert predictions[0].command in {"export_pdf", "open"} and len(predictions) == 2
    assert profile.level == "subtle" and profile.user_id == "alice"
    assert token.token.startswith("aut_") and token.scopes == ("user-data",)
    assert erased["usage_event"] >= 4 and left == []  # 4 clicks (+ any panel events)
    assert (error.status, error.code) == (404, "unknown_region")
