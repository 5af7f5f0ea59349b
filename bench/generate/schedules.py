"""SQLite: a batch's installments, repayments and allocations made by SQLite from the
schedule templates.

The generator computes each schedule once per template (`loans.Maker.template`), and every
loan of that template has the same installments but for its loan id and how far it is paid.
Binding every installment value from Python (`executemany`: 15 values for each of the 18.7 M
installments at 1m) was the generator's largest write on SQLite, on the connection that is
SQLite's one writer; making and staging the 8.9 M repayments and as many allocations was a
large part of the cloning process's work, the other core. Here each template's rows are bound
once, into a temporary table, and a batch binds per loan its template and how many
installments it paid in full, plus the few installments that are neither paid nor pending
(`Special`: due, overdue, partly paid). Then, in SQLite's C:

* one `INSERT … SELECT` makes the batch's installments in (loan, seq) order, so their ids (from
  the column default) follow the loans as they did;
* the batch's payments (each installment paid in full, and the partly paid ones) are numbered
  in (loan, seq) order, and two more make one repayment and one allocation each, exactly as
  `repayments.Payer` would: the same ids, amounts, dates and channels.

PostgreSQL keeps its COPY text (`Template.paid_text`) and `Payer`: the rows are already one
string join per loan there, and the server parses them on another core.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, NamedTuple

from django.db import connection

from bench.generate import repayments

# Temporary tables (the generator's connection only; gone with it).
TEMPLATES = "bench_schedule"
LOANS = "bench_schedule_loan"
SPECIALS = "bench_schedule_special"
PAID = "bench_schedule_paid"  # a batch's payments, numbered
CHANNELS = "bench_schedule_channel"  # the payer's channels, by position


class Special(NamedTuple):
    """An installment due by the generated date and not paid in full: what differs from its
    template row."""

    loan_id: int
    seq: int
    paid_principal_fen: int
    paid_interest_fen: int
    status: str


# The template row's columns (after its template number and position `k`), as written by
# `loans.Maker.template`: seq, due date (as the database stores it), days, opening balance,
# principal, interest, fee.
_TEMPLATE_COLUMNS = ("seq", "due_date", "days", "opening", "principal", "interest", "fee")

_INSERT = f"""
INSERT INTO lending_installment (
    loan_id, seq, due_date, days, opening_principal_fen, principal_fen, interest_fen, fee_fen,
    penalty_fen, paid_principal_fen, paid_interest_fen, paid_fee_fen, paid_penalty_fen, status,
    paid_off_on
)
SELECT l.loan_id, t.seq, t.due_date, t.days, t.opening, t.principal, t.interest, t.fee, 0,
       CASE WHEN t.k < l.paid_until THEN t.principal ELSE coalesce(s.paid_principal_fen, 0) END,
       CASE WHEN t.k < l.paid_until THEN t.interest ELSE coalesce(s.paid_interest_fen, 0) END,
       CASE WHEN t.k < l.paid_until THEN t.fee ELSE 0 END,
       0,
       CASE WHEN t.k < l.paid_until THEN 'paid' ELSE coalesce(s.status, 'pending') END,
       CASE WHEN t.k < l.paid_until THEN t.due_date END
FROM temp.{LOANS} l
JOIN temp.{TEMPLATES} t ON t.tpl = l.tpl
LEFT JOIN temp.{SPECIALS} s ON s.loan_id = l.loan_id AND s.seq = t.seq
ORDER BY l.loan_id, t.k
"""


# The batch's payments, in the order `repayments.Payer` numbers them (loan, then seq): each
# installment paid in full, and the partly paid ones.
_PAID = f"""
INSERT INTO temp.{PAID} (n, loan_id, seq, due_date, principal, interest, fee)
SELECT row_number() OVER (ORDER BY l.loan_id, t.k), l.loan_id, t.seq, t.due_date,
       CASE WHEN t.k < l.paid_until THEN t.principal ELSE s.paid_principal_fen END,
       CASE WHEN t.k < l.paid_until THEN t.interest ELSE s.paid_interest_fen END,
       CASE WHEN t.k < l.paid_until THEN t.fee ELSE 0 END
FROM temp.{LOANS} l
JOIN temp.{TEMPLATES} t ON t.tpl = l.tpl
LEFT JOIN temp.{SPECIALS} s ON s.loan_id = l.loan_id AND s.seq = t.seq
WHERE t.k < l.paid_until OR s.paid_principal_fen + s.paid_interest_fen > 0
"""

# `repayments.Payer.rows`, set-based: repayment n of the batch has id `first + n - 1` and the
# channel `channels[(k + 7 n) mod 4096]` (k: the payer's position before the batch); it is
# posted at the payer's time of day on its value date (`_posted_at`). `%%` is `%` (the
# statement has parameters).
_REPAYMENTS = f"""
INSERT INTO lending_repayment (
    id, loan_id, kind, prepayment_mode, prepay_principal_fen, amount_fen, value_date, channel,
    reference, source, principal_fen, interest_fen, fee_fen, penalty_fen, credit_fen, status,
    idempotency_key, request_hash, created_by_id, created_at, reversed_by_id, reversed_at,
    reversed_on, reversal_reason
)
SELECT %s + p.n - 1, p.loan_id, 'repayment', '', 0, p.principal + p.interest + p.fee,
       p.due_date, c.channel, '', %s, p.principal, p.interest, p.fee, 0, 0, 'posted', NULL, '',
       %s, p.due_date || %s, NULL, NULL, NULL, ''
FROM temp.{PAID} p
JOIN temp.{CHANNELS} c ON c.k = (%s + 7 * p.n) %% {repayments.CHANNEL_CYCLE}
ORDER BY p.n
"""

_ALLOCATIONS = f"""
INSERT INTO lending_repaymentallocation (
    repayment_id, seq, due_date, principal_fen, interest_fen, fee_fen, penalty_fen
)
SELECT %s + n - 1, seq, due_date, principal, interest, fee, 0 FROM temp.{PAID} ORDER BY n
"""


@contextmanager
def tables(payer: repayments.Payer) -> Iterator[None]:
    """The temporary tables, for one generation on the current connection (SQLite), paying
    with `payer`'s channels."""
    try:
        _create(payer)
        yield
    finally:
        with connection.cursor() as cursor:
            for name in (TEMPLATES, LOANS, SPECIALS, PAID, CHANNELS):
                cursor.execute(f"DROP TABLE IF EXISTS temp.{name}")


def _create(payer: repayments.Payer) -> None:
    with connection.cursor() as cursor:
        # The templates' rows are ~150 MB at 1m: a temporary table's own cache is 2 MB.
        cursor.execute("PRAGMA temp.cache_size = -262144")
        cursor.execute(
            f"CREATE TEMP TABLE {TEMPLATES} (tpl INTEGER, k INTEGER, "
            f"{', '.join(_TEMPLATE_COLUMNS)}, PRIMARY KEY (tpl, k)) WITHOUT ROWID"
        )
        cursor.execute(
            f"CREATE TEMP TABLE {LOANS} (loan_id INTEGER PRIMARY KEY, tpl INTEGER, "
            "paid_until INTEGER)"
        )
        cursor.execute(
            f"CREATE TEMP TABLE {SPECIALS} (loan_id INTEGER, seq INTEGER, "
            "paid_principal_fen INTEGER, paid_interest_fen INTEGER, status TEXT, "
            "PRIMARY KEY (loan_id, seq)) WITHOUT ROWID"
        )
        cursor.execute(
            f"CREATE TEMP TABLE {PAID} (n INTEGER PRIMARY KEY, loan_id INTEGER, seq INTEGER, "
            "due_date TEXT, principal INTEGER, interest INTEGER, fee INTEGER)"
        )
        cursor.execute(f"CREATE TEMP TABLE {CHANNELS} (k INTEGER PRIMARY KEY, channel TEXT)")
        cursor.executemany(
            f"INSERT INTO temp.{CHANNELS} VALUES (%s, %s)", list(enumerate(payer.channels))
        )


def _posted_at(payer: repayments.Payer) -> str:
    """What follows the value date in a repayment's `created_at` as the payer writes it (the
    time of day, in the connection's time zone)."""
    day = date(2000, 1, 3)
    posted = str(payer.at(day))
    if not posted.startswith(day.isoformat()):  # a time zone that moves it to another day
        raise ValueError(f"the repayments would be posted on another day: {posted}")
    return posted[len(day.isoformat()) :]


def write(
    templates: Sequence[tuple[int, Sequence[tuple[Any, ...]]]],
    loans: Sequence[tuple[int, int, int]],
    specials: Sequence[Special],
) -> int:
    """Adds the `templates` not written yet ((number, rows)), then makes the installments of
    `loans` ((loan id, template number, installments paid in full)) with their `specials`;
    returns the installments written. The batch stays in the temporary tables for `pay`."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM temp.{LOANS}")
        cursor.execute(f"DELETE FROM temp.{SPECIALS}")
        if templates:
            marks = ", ".join(["%s"] * (2 + len(_TEMPLATE_COLUMNS)))
            cursor.executemany(
                f"INSERT INTO temp.{TEMPLATES} VALUES ({marks})",
                [(no, k, *row) for no, rows in templates for k, row in enumerate(rows)],
            )
        cursor.executemany(f"INSERT INTO temp.{LOANS} VALUES (%s, %s, %s)", loans)
        cursor.executemany(f"INSERT INTO temp.{SPECIALS} VALUES (%s, %s, %s, %s, %s)", specials)
        cursor.execute(_INSERT)
        return int(cursor.rowcount)


def pay(payer: repayments.Payer, repayment_ids: Sequence[int]) -> int:
    """The repayments of the batch `write` made, with one allocation each, as `payer` would:
    with `repayment_ids` (consecutive, one per payment), moving its channel position on as it
    would; returns the repayments written."""
    first = repayment_ids[0] if repayment_ids else 0
    if list(repayment_ids) != list(range(first, first + len(repayment_ids))):
        raise ValueError("the repayment ids must be consecutive")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM temp.{PAID}")
        cursor.execute(_PAID)
        paid = int(cursor.rowcount)
        if paid != len(repayment_ids):
            raise ValueError(f"{paid} payments for {len(repayment_ids)} repayment ids")
        if paid:
            cursor.execute(
                _REPAYMENTS,
                [first, repayments.SOURCE, payer.posted_by, _posted_at(payer), payer.k],
            )
            cursor.execute(_ALLOCATIONS, [first])
    payer.k = (payer.k + 7 * paid) % repayments.CHANNEL_CYCLE
    return paid
