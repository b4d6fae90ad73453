"""An opt-out made through one worker holds on every worker at once.

Turning recording off is a privacy promise: from the moment the answer comes back, nothing
more is stored about the person, whichever worker the next event reaches. A worker that
kept the person's profile (or their model) in memory and went on storing would break it,
so the other workers first serve the person (their caches are warm), then the opt-out goes
through worker 0 and the very next events go to workers 1 and 2, with no wait.
"""

from __future__ import annotations

from typing import Any

from tests.cluster.conftest import API, Cluster, engine_user

COMMANDS = ("open", "save", "export_pdf", "undo", "find", "copy")


def events(user: str, prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "client_event_id": f"{prefix}-{n}",
            "user_id": user,
            "command": COMMANDS[n % len(COMMANDS)],
            "client_time": 1_700_000_000 + n,
        }
        for n in range(count)
    ]


def stored(cluster: Cluster, user: str, *, kind: str | None = None) -> list[str]:
    """Client event ids stored for ``user`` (of one ``kind``, or every kind: task-panel
    offers the engine records on the person's behalf count too)."""
    only = "" if kind is None else "AND kind = :kind "
    rows = cluster.sql(
        f"SELECT client_event_id FROM usage_event WHERE user_id = :user {only}ORDER BY id",
        user=engine_user(user),
        kind=kind,
    )
    return [r[0] for r in rows]


def set_recording(cluster: Cluster, worker: int, user: str, enabled: bool) -> None:
    with cluster.http(worker) as client:
        response = client.patch(f"{API}/users/{user}/profile", json={"recording": enabled})
    assert response.status_code == 200, response.text
    assert response.json()["recording"] is enabled


def test_opt_out_through_one_worker_stops_recording_on_all(cluster: Cluster) -> None:
    user, bystander = "carol", "dave"
    # Every worker stores and serves carol first, so each holds her model in its cache.
    for worker in range(3):
        answer = cluster.ingest(worker, events(user, f"before{worker}", 20))
        assert answer["accepted"] == 20
        assert cluster.predictions(worker, user)
    before = stored(cluster, user)
    assert len(stored(cluster, user, kind="invoke")) == 60

    set_recording(cluster, 0, user, False)
    for worker in (1, 2):
        batch = events(user, f"after{worker}", 25) + events(bystander, f"d{worker}", 5)
        answer = cluster.ingest(worker, batch)
        refused, others = answer["results"][:25], answer["results"][25:]
        assert {r["status"] for r in refused} == {"rejected"}, f"worker {worker}"
        for r in refused:
            assert r["field"] == "user_id" and "recording" in r["reason"], r
        assert {r["status"] for r in others} == {"accepted"}  # only carol's are refused
        with cluster.http(worker) as client:  # and every worker reports her choice
            profile = client.get(f"{API}/users/{user}/profile").json()
        assert profile["recording"] is False
    assert stored(cluster, user) == before  # nothing stored after the opt-out
    assert len(stored(cluster, bystander)) == 10

    # Turning it back on through another worker holds everywhere at once too.
    set_recording(cluster, 2, user, True)
    assert cluster.ingest(1, events(user, "again", 3))["accepted"] == 3
    again = stored(cluster, user)
    assert again[: len(before)] == before
    assert [c for c in again[len(before) :] if c.startswith("again-")] == [
        "again-0",
        "again-1",
        "again-2",
    ]
