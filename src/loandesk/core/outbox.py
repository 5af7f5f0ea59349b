"""Transactional outbox: events are rows written with the change; handlers run later, at least once.

`publish` must be called inside the writing transaction. `dispatch_pending` (run by the task
worker, nudged after each commit and swept by the scheduler) hands each event to every handler
registered for its topic. A handler's own database writes commit together with its delivery row,
so a (event, handler) pair takes effect once even when the event is dispatched twice; a failing
handler is retried with backoff and the event goes to the dead-letter state after MAX_ATTEMPTS.
"""

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from loandesk.core.models import OutboxDelivery, OutboxEvent

logger = logging.getLogger(__name__)

Handler = Callable[[OutboxEvent], None]
MAX_ATTEMPTS = 8
_handlers: dict[str, dict[str, Handler]] = {}


def handler_name(func: Handler) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def handles(*topics: str) -> Callable[[Handler], Handler]:
    """Register a handler for topics; '*' receives every event."""

    def register(func: Handler) -> Handler:
        for topic in topics:
            _handlers.setdefault(topic, {})[handler_name(func)] = func
        return func

    return register


def unregister(func: Handler) -> None:
    for handlers in _handlers.values():
        handlers.pop(handler_name(func), None)


def handlers_for(topic: str) -> dict[str, Handler]:
    return {**_handlers.get("*", {}), **_handlers.get(topic, {})}


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts * 5, 3600))


def publish(
    topic: str,
    *,
    payload: dict[str, Any] | None = None,
    aggregate_type: str = "",
    aggregate_id: str | int = "",
) -> OutboxEvent:
    if not connection.in_atomic_block:
        raise RuntimeError("publish() must run inside the transaction that makes the change")
    event = OutboxEvent.objects.create(
        topic=topic,
        payload=payload or {},
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
    )
    _nudge_on_commit()
    return event


def publish_many(
    events: Sequence[tuple[str, dict[str, Any] | None]],
    *,
    aggregate_type: str = "",
    aggregate_id: str | int = "",
) -> list[OutboxEvent]:
    """Publish several events of one aggregate, in order, with one multi-row INSERT (and, as
    with `publish`, one worker nudge per transaction). Same rules: inside the transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("publish_many() must run inside the transaction that makes the change")
    if not events:
        return []
    rows = [
        OutboxEvent(
            topic=topic,
            payload=payload or {},
            aggregate_type=aggregate_type,
            aggregate_id=str(aggregate_id),
        )
        for topic, payload in events
    ]
    OutboxEvent.objects.bulk_create(rows)
    _nudge_on_commit()
    return rows


def prepare_many(
    events: Sequence[tuple[str, dict[str, Any] | None]],
    *,
    aggregate_type: str = "",
    aggregate_id: str | int = "",
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """`publish_many` for a caller that batches its own writes (the flow commands send all of
    a transition's rows in one round trip): the events' rows as {attname: value} (id set,
    `created_at` left to the insert), in order, and the worker nudge's task row (`nudge_row`,
    None when the transaction needs none written), which the caller MUST insert in this same
    transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("prepare_many() must run inside the transaction that makes the change")
    if not events:
        return [], None
    rows = [
        {
            "id": OutboxEvent._meta.pk.get_default(),
            "topic": topic,
            "payload": payload or {},
            "aggregate_type": aggregate_type,
            "aggregate_id": str(aggregate_id),
        }
        for topic, payload in events
    ]
    return rows, nudge_row()


def nudge_row() -> dict[str, Any] | None:
    """For a caller that batches its own writes: this transaction's worker nudge as a task row
    ({attname: value} of django-tasks' DBTaskResult, what `enqueue()` would create) for the
    caller to insert in this same transaction — or None when the transaction is already
    nudged or the task backend is not a table in this database (then it is nudged the usual
    way here). Skips `enqueue()`'s ORM create, about a fifth of an approval's CPU."""
    if _already_nudged():
        return None
    backend = _database_backend()
    if backend is None:  # nudged after the commit, as `_nudge_on_commit` does for this backend
        transaction.on_commit(_nudge_worker)
        return None
    from django_tasks_db.models import get_date_max

    from loandesk.core.tasks import dispatch_outbox

    task = dispatch_outbox
    transaction.on_commit(_nudged)
    return {
        "id": backend._get_id(),
        "args_kwargs": {"args": [], "kwargs": {}},
        "priority": task.priority,
        "task_path": task.module_path,
        "queue_name": task.queue_name,
        # What django-tasks-db's pre_save handler stores for "run as soon as possible".
        "run_after": task.run_after or get_date_max(),
        "backend_name": backend.alias,
    }


def _database_backend() -> Any:
    """The database task backend of `dispatch_outbox` when its table is in this database (so
    its task row can be written in the publishing transaction), else None."""
    from django.db import router
    from django_tasks import task_backends
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    from loandesk.core.tasks import dispatch_outbox

    try:
        backend = task_backends[dispatch_outbox.backend]
    except Exception:
        return None
    if isinstance(backend, DatabaseBackend) and (
        router.db_for_write(DBTaskResult) == connection.alias
    ):
        return backend
    return None


def _already_nudged() -> bool:
    """This transaction already has its worker nudge (written with it, or due after commit)."""
    return any(entry[1] in (_nudge_worker, _nudged) for entry in connection.run_on_commit)


def _nudge_on_commit() -> None:
    """Wake the task worker once the events are committed: one nudge per transaction, however
    many events it publishes (each nudge is a task row).

    With the database task backend on this database the task row is written now, inside the
    publishing transaction, so it commits (or rolls back) with the events and an approval pays
    one commit instead of two; a marker callback remembers that this transaction has its nudge.
    Other backends get the task after the commit. A rolled-back savepoint drops both the row
    and its callbacks, so the next publish nudges again."""
    if _already_nudged():
        return
    if _database_backend() is not None:
        from loandesk.core.tasks import dispatch_outbox

        try:
            dispatch_outbox.enqueue()
        except Exception:  # raised before any SQL (e.g. a bad backend): the sweep delivers it
            logger.exception("could not enqueue outbox dispatch")
        transaction.on_commit(_nudged)
        return
    transaction.on_commit(_nudge_worker)


def _nudged() -> None:
    """Marker: this transaction's nudge was written with it."""


def _nudge_worker() -> None:
    from loandesk.core.tasks import dispatch_outbox

    try:
        dispatch_outbox.enqueue()
    except Exception:  # the scheduler's sweep delivers it anyway
        logger.exception("could not enqueue outbox dispatch")


def dispatch_event(event_id: Any) -> str:
    """Process one event; returns its status afterwards."""
    with transaction.atomic():
        locked = OutboxEvent.objects.filter(pk=event_id, status=OutboxEvent.Status.PENDING)
        if connection.features.has_select_for_update_skip_locked:
            locked = locked.select_for_update(skip_locked=True)
        event = locked.first()
        if event is None:
            return "skipped"
        done = set(event.deliveries.values_list("handler", flat=True))
        errors: list[str] = []
        for name, func in handlers_for(event.topic).items():
            if name in done:
                continue
            try:
                with transaction.atomic():
                    func(event)
                    OutboxDelivery.objects.create(event=event, handler=name)
            except IntegrityError:
                # Another dispatcher delivered it meanwhile: that is the dedupe working.
                continue
            except Exception as exc:
                logger.exception("outbox handler %s failed for %s", name, event.pk)
                errors.append(f"{name}: {exc!r}"[:1000])
        now = timezone.now()
        if errors:
            event.attempts += 1
            event.last_error = "\n".join(errors)
            if event.attempts >= MAX_ATTEMPTS:
                event.status = OutboxEvent.Status.DEAD
            else:
                event.next_attempt_at = now + backoff(event.attempts)
        else:
            event.status = OutboxEvent.Status.DONE
            event.processed_at = now
            event.last_error = ""
        event.save(
            update_fields=["attempts", "last_error", "status", "next_attempt_at", "processed_at"]
        )
        return str(event.status)


def dispatch_pending(limit: int = 200) -> int:
    """Deliver due events in creation order; returns how many were processed."""
    now = timezone.now()
    due = (
        OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING)
        .exclude(next_attempt_at__gt=now)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    processed = 0
    for event_id in list(due):
        if dispatch_event(event_id) != "skipped":
            processed += 1
    return processed


def retry_dead(event_id: Any) -> None:
    """Admin action: give a dead-lettered event another round of attempts."""
    OutboxEvent.objects.filter(pk=event_id, status=OutboxEvent.Status.DEAD).update(
        status=OutboxEvent.Status.PENDING, attempts=0, next_attempt_at=None
    )
