"""Demo accounts and a replayed history, so a first `make run` shows adaptation at once.

Histories come from small workflow grammars of the demo editor (``registry.json``: a photo
editor, a writer, a mix), sampled with a fixed seed and spread over the past two weeks. They go
through ``Personalizer.record`` like live traffic, so the model, the task panels and the
live metrics see exactly what they would have seen. Only command ids and context are
recorded, as in production.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session
from tqdm import tqdm

from app.accounts import create_account, engine_user_id, find_account
from app.models import Role
from personalization.engine.personalizer import Personalizer

DAY = 86400.0
ROUTE = "/workspace"

# Workflows: short command runs that people repeat, with the region they are clicked in.
WORKFLOWS: dict[str, Sequence[str]] = {
    "photo": ("open", "crop", "resize", "rotate", "brightness", "filter", "save", "export_png"),
    "touch_up": ("crop", "brightness", "filter", "undo", "filter", "save"),
    "write": ("open", "heading", "bold", "italic", "align", "save"),
    "table": ("insert_table", "table_rows", "table_style", "save"),
    "share": ("share", "share_invite", "share_permissions"),
    "export": ("save", "export_pdf", "print"),
    "edit": ("find", "replace", "copy", "paste", "undo", "redo", "save"),
    "media": ("insert_image", "insert_link", "insert_comment", "save"),
}
REGION = {
    "insert_link": "menu",
    "insert_comment": "sidebar",
    "brightness": "sidebar",
    "flip": "sidebar",
    "table_rows": "menu",
    "table_style": "menu",
    "share_invite": "menu",
    "share_permissions": "menu",
    "export_png": "menu",
    "replace": "menu",
    "print": "menu",
    "align": "menu",
}


@dataclass(frozen=True, slots=True)
class Persona:
    name: str
    mix: dict[str, float]  # workflow -> weight
    sessions: int


PERSONAS: dict[str, Persona] = {
    "photo": Persona("photo", {"photo": 5, "touch_up": 3, "export": 1, "share": 1}, 12),
    "writer": Persona("writer", {"write": 4, "table": 3, "share": 2, "export": 2, "edit": 2}, 12),
    "mixed": Persona("mixed", {"photo": 2, "write": 2, "table": 1, "media": 2, "edit": 1}, 10),
}


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    password: str
    role: Role
    persona: str | None  # whose replayed history the account starts with


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("designer", "designer-demo", Role.DESIGNER, None),
    DemoAccount("alice", "alice-demo", Role.USER, "photo"),
    DemoAccount("bob", "bob-demo", Role.USER, "writer"),
)
SIMULATED_USERS = 8  # extra engine-only users (no login) so the insights have a population


def history(persona: Persona, *, seed: int, now: float) -> list[tuple[float, str]]:
    """(time, command) pairs: ``sessions`` sessions over the last 14 days, oldest first."""
    rng = random.Random(seed)
    names = list(persona.mix)
    weights = [persona.mix[n] for n in names]
    out: list[tuple[float, str]] = []
    starts = sorted(now - rng.uniform(0.05, 14) * DAY for _ in range(persona.sessions))
    for start in starts:
        t = start
        for _ in range(rng.randint(2, 4)):
            flow = WORKFLOWS[rng.choices(names, weights)[0]]
            for command in flow:
                if rng.random() < 0.08:  # people skip steps now and then
                    continue
                t += rng.uniform(2, 40)
                out.append((t, command))
    return [(min(t, now - 1), c) for t, c in out]


def seed_history(
    personalizer: Personalizer, *, user_id: str, persona: Persona, seed: int, now: float
) -> int:
    events = [
        {
            "client_event_id": f"seed-{i}",
            "command": command,
            "client_time": t,
            "region": REGION.get(command, "toolbar"),
            "route": ROUTE,
            "session_id": f"seed-{int(t // DAY)}",
            "device": "desktop",
        }
        for i, (t, command) in enumerate(history(persona, seed=seed, now=now))
    ]
    result = personalizer.record(user_id, events)
    for region in personalizer.registry.regions:
        personalizer.layout(user_id, region.id)
    return result.accepted


def seed_demo(*, engine_session: Session, personalizer: Personalizer) -> list[str]:
    """Create missing demo accounts and replay history for users who have none yet, so a
    run that was interrupted finishes the job and a complete run changes nothing."""
    now = time.time()
    created: list[str] = []
    jobs: list[tuple[str, Persona]] = []
    for account in DEMO_ACCOUNTS:
        user = find_account(session=engine_session, username=account.username)
        if user is None:
            user = create_account(
                session=engine_session,
                username=account.username,
                password=account.password,
                role=account.role,
            )
            created.append(account.username)
        assert user.id is not None
        if account.persona is not None:
            jobs.append((engine_user_id(user.id), PERSONAS[account.persona]))
    personas = list(PERSONAS.values())
    for n in range(SIMULATED_USERS):
        jobs.append((f"sim:{n + 1:02d}", personas[n % len(personas)]))
    todo = [(seed, job) for seed, job in enumerate(jobs) if personalizer.store.count(job[0]) == 0]
    for seed, (user_id, persona) in tqdm(todo, desc="replaying demo history"):
        seed_history(personalizer, user_id=user_id, persona=persona, seed=seed, now=now)
    return created
