"""Transactional outbox: publish in the writing transaction, deliver at least once, dedupe by
(event, handler), retry with backoff, dead-letter after MAX_ATTEMPTS, revive by an admin."""

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from loandesk.core import outbox
from loandesk.core.models import AuditEntry, OutboxDelivery, OutboxEvent
from loandesk.core.tasks import dispatch_outbox

TOPIC = "test.topic"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

Register = Callable[..., Callable[[outbox.Handler], outbox.Handler]]


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch) -> Iterator[Register]:
    """Register test handlers through `outbox.handles`; only they exist during the test
    (other apps' handlers are set aside), and they are unregistered afterwards."""
    monkeypatch.setattr(outbox, "_handlers", {})
    registered: list[outbox.Handler] = []

    def make(*topics: str) -> Callable[[outbox.Handler], outbox.Handler]:
        def decorate(func: outbox.Handler) -> outbox.Handler:
            outbox.handles(*topics)(func)
            registered.append(func)
            return func

        return decorate

    yield make
    for func in registered:
        outbox.unregister(func)
    assert all(not handlers for handlers in outbox._handlers.values())


def _publish(topic: str = TOPIC, **kwargs: Any) -> OutboxEvent:
    with transaction.atomic():
        return outbox.publish(topic, **kwargs)


def _side_effects(event: OutboxEvent, action: str = "test.handled") -> int:
    return AuditEntry.objects.filter(action=action, target_id=str(event.pk)).count()


def _write_side_effect(event: OutboxEvent, action: str = "test.handled") -> None:
    AuditEntry.objects.create(action=action, target_type="outbox", target_id=str(event.pk))


def _reload(event: OutboxEvent) -> OutboxEvent:
    return OutboxEvent.objects.get(pk=event.pk)


def _make_due(event: OutboxEvent) -> None:
    OutboxEvent.objects.filter(pk=event.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


# --- registry -----------------------------------------------------------------------------


def test_handles_and_unregister(register: Register) -> None:
    @register(TOPIC, "test.other")
    def specific(event: OutboxEvent) -> None:
        pass

    @register("*")
    def everything(event: OutboxEvent) -> None:
        pass

    name = outbox.handler_name(specific)
    assert name.endswith("test_handles_and_unregister.<locals>.specific")
    assert set(outbox.handlers_for(TOPIC)) == {name, outbox.handler_name(everything)}
    assert set(outbox.handlers_for("test.other")) == {name, outbox.handler_name(everything)}
    assert set(outbox.handlers_for("unrelated")) == {outbox.handler_name(everything)}
    outbox.unregister(specific)
    assert set(outbox.handlers_for(TOPIC)) == {outbox.handler_name(everything)}


def test_backoff_grows_and_is_capped() -> None:
    assert outbox.backoff(1) == timedelta(seconds=10)
    assert outbox.backoff(2) == timedelta(seconds=20)
    assert outbox.backoff(3) == timedelta(seconds=40)
    assert outbox.backoff(20) == timedelta(hours=1)
    delays = [outbox.backoff(n) for n in range(1, outbox.MAX_ATTEMPTS + 1)]
    assert delays == sorted(delays)


# --- publish ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_publish_outside_a_transaction_raises() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox.publish(TOPIC, payload={"x": 1})
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_publish_rolls_back_with_its_transaction() -> None:
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        outbox.publish(TOPIC)
        _ = 1 / 0
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db
def test_publish_inside_atomic_writes_a_row() -> None:
    event = _publish(payload={"loan_id": 7}, aggregate_type="lending.loan", aggregate_id=7)
    row = _reload(event)
    assert row.topic == TOPIC
    assert row.payload == {"loan_id": 7}
    assert row.aggregate_type == "lending.loan"
    assert row.aggregate_id == "7"
    assert row.status == OutboxEvent.Status.PENDING
    assert row.attempts == 0
    assert row.next_attempt_at is None
    assert row.processed_at is None


@pytest.mark.django_db
def test_publish_enqueues_dispatch_on_commit(
    settings: Any, django_capture_on_commit_callbacks: Any, register: Register
) -> None:
    # django_tasks resets its backend cache on setting_changed, so this takes effect at once.
    settings.TASKS = IMMEDIATE
    seen: list[Any] = []

    @register(TOPIC)
    def handler(event: OutboxEvent) -> None:
        seen.append(event.pk)
        _write_side_effect(event)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        event = _publish(payload={"n": 1})
        assert seen == []  # nothing is delivered before the commit
        assert _reload(event).status == OutboxEvent.Status.PENDING
    assert len(callbacks) == 1
    assert seen == [event.pk]
    row = _reload(event)
    assert row.status == OutboxEvent.Status.DONE
    assert row.processed_at is not None
    assert _side_effects(event) == 1


@pytest.mark.django_db
def test_publish_with_database_backend_queues_a_task(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        event = _publish()
    assert DBTaskResult.objects.filter(task_path="loandesk.core.tasks.dispatch_outbox").count() == 1
    assert _reload(event).status == OutboxEvent.Status.PENDING  # the worker has not run yet


@pytest.mark.django_db
def test_one_nudge_per_transaction_however_many_events(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        events = [_publish(payload={"n": n}) for n in range(3)]
    assert len(callbacks) == 1
    assert DBTaskResult.objects.filter(task_path="loandesk.core.tasks.dispatch_outbox").count() == 1
    assert all(_reload(e).status == OutboxEvent.Status.PENDING for e in events)


@pytest.mark.django_db(transaction=True)
def test_the_nudge_task_row_commits_and_rolls_back_with_the_events() -> None:
    """With the database task backend the nudge is written inside the publishing transaction:
    a commit makes events and task visible together, a rollback leaves neither."""
    from django_tasks_db.models import DBTaskResult

    def tasks() -> int:
        return DBTaskResult.objects.filter(task_path="loandesk.core.tasks.dispatch_outbox").count()

    try:
        with transaction.atomic():
            _publish(payload={"n": 1})
            assert tasks() == 1  # already written, in this transaction
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert tasks() == 0 and not OutboxEvent.objects.filter(topic=TOPIC).exists()
    with transaction.atomic():
        _publish(payload={"n": 2})
        _publish(payload={"n": 3})
    assert tasks() == 1 and OutboxEvent.objects.filter(topic=TOPIC).count() == 2


@pytest.mark.django_db
def test_a_rolled_back_savepoint_does_not_swallow_the_nudge(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        try:
            with transaction.atomic():
                _publish(payload={"n": 1})
                raise RuntimeError("roll back the savepoint")
        except RuntimeError:
            pass
        _publish(payload={"n": 2})
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_enqueue_failure_does_not_break_the_commit(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "nowhere.NoSuchBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        event = _publish()
    # The write stands; the scheduler's sweep delivers it later.
    assert _reload(event).status == OutboxEvent.Status.PENDING


@pytest.mark.django_db(transaction=True)
def test_real_commit_dispatches_through_the_task_backend(settings: Any, register: Register) -> None:
    settings.TASKS = IMMEDIATE

    @register(TOPIC)
    def handler(event: OutboxEvent) -> None:
        _write_side_effect(event)

    with transaction.atomic():
        event = outbox.publish(TOPIC)
    row = _reload(event)
    assert row.status == OutboxEvent.Status.DONE
    assert _side_effects(event) == 1
    assert OutboxDelivery.objects.filter(event=event).count() == 1


# --- dispatch -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_dispatch_runs_every_handler_of_the_topic(register: Register) -> None:
    calls: list[str] = []

    @register(TOPIC)
    def first(event: OutboxEvent) -> None:
        calls.append("first")
        _write_side_effect(event, "test.first")

    @register("*")
    def audit_all(event: OutboxEvent) -> None:
        calls.append("all")

    @register("test.unrelated")
    def unrelated(event: OutboxEvent) -> None:
        calls.append("unrelated")

    event = _publish(payload={"a": 1})
    assert outbox.dispatch_pending() == 1
    assert sorted(calls) == ["all", "first"]
    row = _reload(event)
    assert row.status == OutboxEvent.Status.DONE
    assert row.processed_at is not None
    assert row.attempts == 0
    assert row.last_error == ""
    assert set(row.deliveries.values_list("handler", flat=True)) == {
        outbox.handler_name(first),
        outbox.handler_name(audit_all),
    }
    assert _side_effects(event, "test.first") == 1


@pytest.mark.django_db
def test_event_without_handlers_is_done(register: Register) -> None:
    event = _publish("test.nobody")
    assert outbox.dispatch_event(event.pk) == "done"
    assert _reload(event).status == OutboxEvent.Status.DONE


@pytest.mark.django_db
def test_handler_receives_the_event(register: Register) -> None:
    received: list[OutboxEvent] = []

    @register(TOPIC)
    def handler(event: OutboxEvent) -> None:
        received.append(event)

    event = _publish(payload={"k": "v"}, aggregate_type="t", aggregate_id="9")
    outbox.dispatch_event(event.pk)
    assert len(received) == 1
    assert received[0].pk == event.pk
    assert received[0].payload == {"k": "v"}
    assert received[0].aggregate_id == "9"


@pytest.mark.django_db
def test_event_is_handled_once_when_dispatched_twice(register: Register) -> None:
    runs: list[Any] = []

    @register(TOPIC)
    def handler(event: OutboxEvent) -> None:
        runs.append(event.pk)
        _write_side_effect(event)

    event = _publish()
    assert outbox.dispatch_event(event.pk) == "done"
    assert outbox.dispatch_event(event.pk) == "skipped"
    assert outbox.dispatch_pending() == 0
    assert outbox.dispatch_pending() == 0
    assert runs == [event.pk]
    assert OutboxDelivery.objects.filter(event=event).count() == 1
    assert _side_effects(event) == 1


@pytest.mark.django_db
def test_delivery_row_dedupes_even_if_event_is_pending_again(register: Register) -> None:
    """A second dispatcher that still sees the event pending skips handlers already delivered."""
    runs: list[Any] = []

    @register(TOPIC)
    def handler(event: OutboxEvent) -> None:
        runs.append(event.pk)
        _write_side_effect(event)

    event = _publish()
    outbox.dispatch_event(event.pk)
    OutboxEvent.objects.filter(pk=event.pk).update(status=OutboxEvent.Status.PENDING)
    assert outbox.dispatch_event(event.pk) == "done"
    assert runs == [event.pk]
    assert OutboxDelivery.objects.filter(event=event).count() == 1
    assert _side_effects(event) == 1


@pytest.mark.django_db
def test_failing_handler_is_retried_after_backoff(register: Register) -> None:
    state = {"calls": 0}

    @register(TOPIC)
    def flaky(event: OutboxEvent) -> None:
        state["calls"] += 1
        _write_side_effect(event)
        if state["calls"] == 1:
            raise ConnectionError("sms gateway down")

    event = _publish()
    before = timezone.now()
    assert outbox.dispatch_pending() == 1
    row = _reload(event)
    assert row.status == OutboxEvent.Status.PENDING
    assert row.attempts == 1
    assert row.next_attempt_at is not None
    assert row.next_attempt_at >= before + outbox.backoff(1)
    assert row.next_attempt_at > timezone.now()
    assert "sms gateway down" in row.last_error
    assert outbox.handler_name(flaky) in row.last_error
    assert _side_effects(event) == 0  # the failed attempt's write was rolled back
    assert not OutboxDelivery.objects.filter(event=event).exists()

    # Not due yet: the sweep leaves it alone.
    assert outbox.dispatch_pending() == 0
    assert state["calls"] == 1

    _make_due(event)
    assert outbox.dispatch_pending() == 1
    row = _reload(event)
    assert row.status == OutboxEvent.Status.DONE
    assert row.attempts == 1
    assert row.last_error == ""
    assert state["calls"] == 2
    assert _side_effects(event) == 1  # exactly once
    assert OutboxDelivery.objects.filter(event=event).count() == 1


@pytest.mark.django_db
def test_handler_writes_roll_back_when_it_raises(register: Register) -> None:
    @register(TOPIC)
    def broken(event: OutboxEvent) -> None:
        _write_side_effect(event)
        AuditEntry.objects.create(action="test.second_write", target_id=str(event.pk))
        raise ValueError("boom")

    event = _publish()
    assert outbox.dispatch_event(event.pk) == "pending"
    assert _side_effects(event) == 0
    assert not AuditEntry.objects.filter(action="test.second_write").exists()
    # The event's own bookkeeping survived the handler's rollback.
    assert _reload(event).attempts == 1


@pytest.mark.django_db
def test_succeeding_handler_is_not_rerun_when_another_fails(register: Register) -> None:
    calls = {"good": 0, "bad": 0}

    @register(TOPIC)
    def good(event: OutboxEvent) -> None:
        calls["good"] += 1
        _write_side_effect(event, "test.good")

    @register(TOPIC)
    def bad(event: OutboxEvent) -> None:
        calls["bad"] += 1
        if calls["bad"] < 3:
            raise RuntimeError("not yet")
        _write_side_effect(event, "test.bad")

    event = _publish()
    assert outbox.dispatch_event(event.pk) == "pending"
    assert set(OutboxDelivery.objects.filter(event=event).values_list("handler", flat=True)) == {
        outbox.handler_name(good)
    }
    for _ in range(2):
        _make_due(event)
        outbox.dispatch_pending()
    row = _reload(event)
    assert row.status == OutboxEvent.Status.DONE
    assert row.attempts == 2
    assert calls == {"good": 1, "bad": 3}
    assert _side_effects(event, "test.good") == 1
    assert _side_effects(event, "test.bad") == 1
    assert OutboxDelivery.objects.filter(event=event).count() == 2


@pytest.mark.django_db
def test_dead_letter_after_max_attempts_and_retry(register: Register) -> None:
    state = {"fail": True, "calls": 0}

    @register(TOPIC)
    def handler(event: OutboxEvent) -> None:
        state["calls"] += 1
        if state["fail"]:
            raise RuntimeError(f"failure {state['calls']}")
        _write_side_effect(event)

    event = _publish()
    for attempt in range(1, outbox.MAX_ATTEMPTS):
        assert outbox.dispatch_event(event.pk) == "pending"
        assert _reload(event).attempts == attempt
    assert outbox.dispatch_event(event.pk) == "dead"
    row = _reload(event)
    assert row.status == OutboxEvent.Status.DEAD
    assert row.attempts == outbox.MAX_ATTEMPTS
    assert f"failure {outbox.MAX_ATTEMPTS}" in row.last_error
    assert state["calls"] == outbox.MAX_ATTEMPTS

    # Dead events are left alone by the dispatcher, even when due.
    _make_due(event)
    assert outbox.dispatch_pending() == 0
    assert outbox.dispatch_event(event.pk) == "skipped"
    assert state["calls"] == outbox.MAX_ATTEMPTS

    state["fail"] = False
    outbox.retry_dead(event.pk)
    row = _reload(event)
    assert row.status == OutboxEvent.Status.PENDING
    assert row.attempts == 0
    assert row.next_attempt_at is None
    assert outbox.dispatch_pending() == 1
    row = _reload(event)
    assert row.status == OutboxEvent.Status.DONE
    assert _side_effects(event) == 1


@pytest.mark.django_db
def test_retry_dead_ignores_events_that_are_not_dead(register: Register) -> None:
    done = _publish()
    outbox.dispatch_event(done.pk)
    outbox.retry_dead(done.pk)
    assert _reload(done).status == OutboxEvent.Status.DONE


@pytest.mark.django_db
def test_dispatch_pending_goes_in_creation_order_and_respects_limit(register: Register) -> None:
    order: list[int] = []

    @register(TOPIC)
    def handler(event: OutboxEvent) -> None:
        order.append(event.payload["n"])

    events = [_publish(payload={"n": n}) for n in range(5)]
    # Force distinct, out-of-insertion-order creation times to check the ordering.
    base = timezone.now() - timedelta(minutes=10)
    for offset, event in zip([3, 1, 4, 0, 2], events, strict=True):
        OutboxEvent.objects.filter(pk=event.pk).update(created_at=base + timedelta(seconds=offset))
    assert outbox.dispatch_pending(limit=3) == 3
    assert order == [3, 1, 4]
    assert outbox.dispatch_pending() == 2
    assert order == [3, 1, 4, 0, 2]


# --- API ----------------------------------------------------------------------------------


def _dead_event(register: Register) -> OutboxEvent:
    @register("test.api")
    def always_fails(event: OutboxEvent) -> None:
        raise RuntimeError("webhook 500")

    event = _publish("test.api", aggregate_type="t", aggregate_id=1)
    for _ in range(outbox.MAX_ATTEMPTS):
        outbox.dispatch_event(event.pk)
    assert _reload(event).status == OutboxEvent.Status.DEAD
    return event


def test_api_lists_dead_events_and_retries_them(client_for: Any, register: Register) -> None:
    dead = _dead_event(register)
    pending = _publish("test.api.pending")
    admin = client_for("admin")

    response = admin.get("outbox/events", {"status": "dead"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["id"] == str(dead.pk)
    assert item["topic"] == "test.api"
    assert item["status"] == "dead"
    assert item["attempts"] == outbox.MAX_ATTEMPTS
    assert "webhook 500" in item["last_error"]

    everything = admin.get("outbox/events").json()
    assert {i["id"] for i in everything["items"]} >= {str(dead.pk), str(pending.pk)}
    assert admin.get("outbox/events", {"status": "pending"}).json()["items"][0]["id"] == str(
        pending.pk
    )

    response = admin.post(f"outbox/events/{dead.pk}/retry")
    assert response.status_code == 204, response.content
    row = _reload(dead)
    assert row.status == OutboxEvent.Status.PENDING
    assert row.attempts == 0
    assert admin.get("outbox/events", {"status": "dead"}).json()["count"] == 0


def test_api_outbox_validation_and_permissions(client_for: Any, register: Register) -> None:
    dead = _dead_event(register)
    admin = client_for("admin")
    response = admin.get("outbox/events", {"status": "exploded"})
    assert response.status_code == 422
    assert "status" in response.json()["details"]["fields"]
    assert admin.post("outbox/events/not-a-uuid/retry").status_code == 422

    officer = client_for("officer1")
    assert officer.get("outbox/events").status_code == 403
    response = officer.post(f"outbox/events/{dead.pk}/retry")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert _reload(dead).status == OutboxEvent.Status.DEAD


@pytest.mark.django_db
def test_api_outbox_requires_login(anon: Any) -> None:
    assert anon.get("outbox/events").status_code == 401


def test_admins_read_event_payloads_such_as_demo_sms(client_for: Any) -> None:
    """In the demo, SMS codes go to the outbox; admins read them in the event payload."""
    with transaction.atomic():
        outbox.publish(
            "notify.sms", payload={"phone_masked": "139****0005", "text": "验证码 123456"}
        )
    items = client_for("admin").get("outbox/events", {"page_size": 5}).json()["items"]
    sms = next(e for e in items if e["topic"] == "notify.sms")
    assert sms["payload"]["text"] == "验证码 123456"


# --- publish_many -------------------------------------------------------------------------


@pytest.mark.django_db
def test_publish_many_writes_every_event_in_one_insert_with_one_nudge(
    django_capture_on_commit_callbacks: Any, django_assert_num_queries: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        # One multi-row INSERT, and the worker's nudge: a task row written in this transaction.
        with django_assert_num_queries(2):
            rows = outbox.publish_many(
                [(TOPIC, {"n": 1}), ("test.other", None), (TOPIC, {"n": 3})],
                aggregate_type="test.aggregate",
                aggregate_id=7,
            )
        outbox.publish(TOPIC)  # a later publish in the same transaction: still one nudge
    assert len(callbacks) == 1
    assert DBTaskResult.objects.filter(task_path="loandesk.core.tasks.dispatch_outbox").count() == 1
    stored = {e.pk: e for e in OutboxEvent.objects.filter(pk__in=[r.pk for r in rows])}
    assert [stored[r.pk].topic for r in rows] == [TOPIC, "test.other", TOPIC]
    assert [stored[r.pk].payload for r in rows] == [{"n": 1}, {}, {"n": 3}]
    assert {(e.aggregate_type, e.aggregate_id, e.status) for e in stored.values()} == {
        ("test.aggregate", "7", OutboxEvent.Status.PENDING)
    }


@pytest.mark.django_db(transaction=True)
def test_publish_many_needs_the_transaction_and_accepts_nothing() -> None:
    with pytest.raises(RuntimeError):
        outbox.publish_many([(TOPIC, {})])
    with transaction.atomic():
        assert outbox.publish_many([]) == []
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_publish_many_events_are_delivered_after_the_commit(
    settings: Any, register: Register
) -> None:
    settings.TASKS = IMMEDIATE
    seen: list[Any] = []

    @register(TOPIC)
    def handler(event: OutboxEvent) -> None:
        seen.append(event.payload["n"])

    with transaction.atomic():
        outbox.publish_many([(TOPIC, {"n": 1}), (TOPIC, {"n": 2})])
        assert seen == []
    assert sorted(seen) == [1, 2]
    assert not OutboxEvent.objects.exclude(status=OutboxEvent.Status.DONE).exists()


# --- prepare_many (callers that batch their own writes) ------------------------------------


@pytest.mark.django_db
def test_prepare_many_returns_the_rows_to_insert_and_nudges_once(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        rows, nudge = outbox.prepare_many(
            [(TOPIC, {"n": 1}), ("test.other", None)], aggregate_type="test.agg", aggregate_id=9
        )
        # Nothing written: the caller inserts the events and the nudge's task row.
        assert not OutboxEvent.objects.exists()
        assert not DBTaskResult.objects.exists()
        assert nudge is not None
        OutboxEvent.objects.bulk_create([OutboxEvent(**row) for row in rows])
        DBTaskResult.objects.bulk_create([DBTaskResult(**nudge)])
        outbox.publish(TOPIC)  # the transaction already has its nudge
        assert outbox.prepare_many([(TOPIC, None)], aggregate_id=9)[1] is None
    assert len(callbacks) == 1
    (task,) = DBTaskResult.objects.all()
    # The row is the one `dispatch_outbox.enqueue()` writes, so the worker runs it.
    assert task.task_path == "loandesk.core.tasks.dispatch_outbox"
    assert task.status == "READY" and task.args_kwargs == {"args": [], "kwargs": {}}
    assert DBTaskResult.objects.ready().filter(pk=task.pk).exists()
    assert task.task.func is dispatch_outbox.func
    assert len({row["id"] for row in rows}) == 2
    stored = {e.pk: e for e in OutboxEvent.objects.filter(pk__in=[row["id"] for row in rows])}
    assert [(stored[r["id"]].topic, stored[r["id"]].payload) for r in rows] == [
        (TOPIC, {"n": 1}),
        ("test.other", {}),
    ]
    assert {(e.aggregate_type, e.aggregate_id) for e in stored.values()} == {("test.agg", "9")}


@pytest.mark.django_db(transaction=True)
def test_prepare_many_needs_the_transaction_and_accepts_nothing() -> None:
    with pytest.raises(RuntimeError):
        outbox.prepare_many([(TOPIC, {})])
    with transaction.atomic():
        assert outbox.prepare_many([]) == ([], None)
