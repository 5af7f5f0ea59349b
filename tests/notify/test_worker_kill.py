"""The task worker under real kill -9: outbox events → webhook messages, delivered by the real
`db_worker` process (with the real `scheduler` beside it) to a local HTTP receiver, while the
worker is SIGKILLed at seeded-random moments and restarted.

The guarantee (docs/security.md, "Reliability"): every message is delivered — at least once on
the wire, because a worker killed between the receiver's answer and recording "sent" leaves
the message to be sent again once its lease runs out — and every repeat carries the same
`X-LoanDesk-Delivery` key and the same body, so a receiver that keeps the keys it accepted
accepts each message exactly once. Inside LoanDesk each event yields exactly one message row
(the outbox handler's delivery row and the message row commit together; the message's dedupe
key is unique).
"""

import json
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from loandesk.core import outbox
from loandesk.core.models import OutboxDelivery, OutboxEvent
from loandesk.notify import deliveries
from loandesk.notify.channels.webhook import DELIVERY_HEADER, verify
from loandesk.notify.models import Delivery
from tests.notify.fakes import Seen, fake_http
from tests.processes import Scratch, env_for, kill9, manage, scratch_copies, spawn

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGES = 60
KILLS = 10
SEED = 8
LEASE_SECONDS = "3"  # a killed worker's message is sent again 3 s later (default 120 s)
RECEIVER_DELAY = 0.08  # the receiver takes its time, as real ones do: kills land mid-send


def _t(model: Any) -> str:
    return str(model._meta.db_table)


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def sent_count(db: Scratch) -> int:
    return int(db.value(f"SELECT COUNT(*) FROM {_t(Delivery)} WHERE status = 'sent'"))


def test_worker_killed_at_random_points_delivers_every_message_once(tmp_path: Path) -> None:
    received: list[Seen] = []
    lock = threading.Lock()

    def receiver(seen: Seen) -> tuple[int, bytes]:
        with lock:
            received.append(seen)
        time.sleep(RECEIVER_DELAY)
        return 200, b"{}"

    with fake_http(receiver) as sink, scratch_copies(tmp_path) as copy:
        secret = deliveries.notify_settings().webhook_secret
        events = []
        for n in range(MESSAGES):
            with transaction.atomic():  # one event per transaction, each with its nudge
                events.append(
                    outbox.publish(
                        "flows.webhook",
                        payload={"instance_id": n, "step_id": "s1", "url": sink.url,
                                 "payload": {"n": n}},
                    )
                )  # fmt: skip
        keys = {f"outbox:{e.pk}" for e in events}
        db = copy("worker")
        env = env_for(db, LOANDESK_NOTIFY_LEASE_SECONDS=LEASE_SECONDS)
        log = tmp_path / "worker.log"
        worker_cmd = manage("db_worker", "--interval", "0.1", "--no-startup-delay")
        # The scheduler's sweeps (every 15 s) re-enqueue what the dead workers' tasks left.
        scheduler = spawn(manage("scheduler"), env, tmp_path / "scheduler.log")
        rng = random.Random(SEED)
        kills: list[dict[str, Any]] = []
        try:
            for _ in range(KILLS):
                target = len(received) + rng.randint(1, 3)
                worker = spawn(worker_cmd, env, log)
                wait_until(
                    lambda w=worker, t=target: len(received) >= t or w.poll() is not None,
                    120,
                    "the worker to send",
                )
                assert worker.poll() is None, log.read_text()[-4000:]
                time.sleep(rng.uniform(0, 2 * RECEIVER_DELAY))
                kill9(worker)
                # What the killed worker left: a message it held (claimed, not recorded sent).
                held = db.value(
                    f"SELECT COUNT(*) FROM {_t(Delivery)}"
                    " WHERE status = 'pending' AND claimed_by LIKE %s",
                    [f"%:{worker.pid}"],
                )
                kills.append({"received": len(received), "sent": sent_count(db), "held": held})
            # Every kill landed mid-delivery: requests had gone out, not every message was sent.
            assert all(k["received"] > 0 and k["sent"] < MESSAGES for k in kills), kills
            assert sum(1 for k in kills if k["held"]) >= KILLS // 2, kills  # killed mid-send

            worker = spawn(worker_cmd, env, log)  # the restart that is left alone
            try:
                wait_until(lambda: sent_count(db) == MESSAGES, 90, "every message sent")
            finally:
                kill9(worker)
        finally:
            kill9(scheduler)

        # LoanDesk's side: one message row per event, sent; each event delivered to its
        # handler once and done.
        rows = db.rows(f"SELECT dedupe_key, status FROM {_t(Delivery)}")
        assert sorted(rows) == sorted((k, "sent") for k in keys)
        assert db.rows(f"SELECT DISTINCT status FROM {_t(OutboxEvent)}") == [("done",)]
        assert db.value(f"SELECT COUNT(*) FROM {_t(OutboxDelivery)}") == MESSAGES

        # The receiver's side: every message arrived; repeats (the at-least-once part) carry the
        # same key and body and a valid signature, so keeping accepted keys accepts each once.
        with lock:
            seen = list(received)
        first: dict[str, bytes] = {}
        for request in seen:
            key = request.headers[DELIVERY_HEADER.lower()]
            assert verify(secret, request.headers, request.body)
            assert first.setdefault(key, request.body) == request.body
        assert set(first) == keys
        accepted = {k: json.loads(body)["payload"]["n"] for k, body in first.items()}
        assert sorted(accepted.values()) == list(range(MESSAGES))
        repeats = len(seen) - len(first)
        print(f"{len(seen)} requests for {MESSAGES} messages ({repeats} repeats), kills: {kills}")
