"""Fixed-window rate limits on a database counter, so every web process shares the count."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from loandesk.core.crypto import blind_index
from loandesk.core.errors import RateLimited
from loandesk.forms.models import RateCounter


def _window(now: datetime, seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def hit(scope: str, key: str, *, limit: int, window_seconds: int) -> int:
    """Count one hit for (scope, key); RateLimited once the window holds more than `limit`.

    Commits on its own (a savepoint when called inside a transaction), before the work it
    guards, so rejected requests count too."""
    now = timezone.now()
    start = _window(now, window_seconds)
    hashed = blind_index(key, purpose=f"ratelimit:{scope}")
    rows = RateCounter.objects.filter(scope=scope, key=hashed, window_start=start)
    with transaction.atomic():
        if not rows.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateCounter.objects.create(scope=scope, key=hashed, window_start=start, count=1)
            except IntegrityError:
                rows.update(count=F("count") + 1)
        count = rows.values_list("count", flat=True).first() or 0
    if count > limit:
        retry = int((start + timedelta(seconds=window_seconds) - now).total_seconds()) + 1
        raise RateLimited(details={"retry_after": retry})
    return count


def peek(scope: str, key: str, *, window_seconds: int) -> tuple[int, int]:
    """(hits so far in the current window, seconds until it ends), counting nothing."""
    now = timezone.now()
    start = _window(now, window_seconds)
    hashed = blind_index(key, purpose=f"ratelimit:{scope}")
    count = (
        RateCounter.objects.filter(scope=scope, key=hashed, window_start=start)
        .values_list("count", flat=True)
        .first()
    )
    retry = int((start + timedelta(seconds=window_seconds) - now).total_seconds()) + 1
    return count or 0, retry


def prune(older_than: timedelta = timedelta(days=1)) -> int:
    deleted, _ = RateCounter.objects.filter(window_start__lt=timezone.now() - older_than).delete()
    return deleted
