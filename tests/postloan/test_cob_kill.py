"""COB under real kill -9: the `loandesk cob` command is SIGKILLed (with every process it
forked) at seeded-random moments of a month-long catch-up, restarted each time, and finally run
to completion; the database must then equal a clean run's from the same starting state.

The starting state is a generated book (bench/generate/loans.py, 600 loans) copied into two
scratch databases (tests/processes.py): one gets one clean `loandesk cob --until …`, the other
the killed and restarted runs (both processes run side by side). Every counted kill left a run
'running' (most of them with steps undone), and each restart goes through the same command an
operator types — which also proves a killed run no longer blocks a rerun (the liveness lock in
postloan/cob.py is gone with the process, docs/adr/0011).
"""

import json
import random
import subprocess
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from bench.generate import loans as portfolio

from loandesk.core.models import AuditEntry, BusinessDate, OutboxEvent
from loandesk.core.services import set_business_date
from loandesk.lending.models import Installment, Loan
from loandesk.postloan.models import (
    CobEventKey,
    CobRun,
    CobStepRun,
    PenaltyPosting,
    PortfolioSnapshot,
)
from tests.processes import Scratch, env_for, kill9, manage, run, scratch_copies, spawn

pytestmark = pytest.mark.django_db(transaction=True)

LOANS = 600
FIRST = portfolio.AS_OF  # 2026-06-01, the first open date of the generated book
UNTIL = date(2026, 6, 30)  # 30 dates; 2026-06-30 is a month end (penalty posting)
KILLS = 10  # kills that must land mid-run
SEED = 20260601

RUN, STEP = CobRun._meta.db_table, CobStepRun._meta.db_table


def _t(model: Any) -> str:
    return str(model._meta.db_table)


def _json(value: Any) -> str:
    return json.dumps(value if isinstance(value, dict) else json.loads(value), sort_keys=True)


def cob_state(db: Scratch) -> dict[str, Any]:
    """Everything COB writes, read back from a scratch database. Ids are comparable: both
    databases are copies of one; outbox rows are compared without their random ids and times."""
    outbox = sorted(
        (topic, agg_type, agg_id, status, _json(payload))
        for topic, agg_type, agg_id, status, payload in db.rows(
            f"SELECT topic, aggregate_type, aggregate_id, status, payload FROM {_t(OutboxEvent)}"
        )
    )
    return {
        "business_date": db.rows(f"SELECT date FROM {_t(BusinessDate)}"),
        "loans": db.rows(
            "SELECT id, status, overdue_since, days_past_due, bucket, classification,"
            f" outstanding_principal_fen, closed_at FROM {_t(Loan)} ORDER BY id"
        ),
        "installments": db.rows(
            "SELECT id, loan_id, seq, status, penalty_fen, paid_off_on, paid_principal_fen,"
            " paid_interest_fen, paid_fee_fen, paid_penalty_fen"
            f" FROM {_t(Installment)} ORDER BY id"
        ),
        "penalty_postings": db.rows(
            f"SELECT installment_id, through FROM {_t(PenaltyPosting)} ORDER BY installment_id"
        ),
        "event_keys": db.rows(
            f"SELECT topic, loan_id, business_date FROM {_t(CobEventKey)} ORDER BY 1, 2, 3"
        ),
        "outbox": outbox,
        "snapshots": db.rows(
            "SELECT date, department_id, product_id, bucket, loan_count,"
            " outstanding_principal_fen, overdue_principal_fen"
            f" FROM {_t(PortfolioSnapshot)} ORDER BY 1, 2, 3, 4"
        ),
        "runs": db.rows(f"SELECT business_date, status FROM {RUN} ORDER BY 1"),
        # Per (date, step): the rows the committed attempt touched, summed over partitions.
        "steps": db.rows(
            f"SELECT r.business_date, s.step, SUM(s.rows), MIN(s.status), MAX(s.status)"
            f" FROM {STEP} s JOIN {RUN} r ON r.id = s.run_id GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        "business_date_moves": db.rows(
            f"SELECT target_label, COUNT(*) FROM {_t(AuditEntry)}"
            " WHERE action = 'business_date.set' GROUP BY 1 ORDER BY 1"
        ),
    }


def progress(db: Scratch) -> int:
    """Grows with every step started, every step committed and every date finished."""
    return int(
        db.value(
            f"SELECT (SELECT COUNT(*) FROM {STEP} WHERE status IN ('running', 'done'))"
            f" + (SELECT COUNT(*) FROM {STEP} WHERE status = 'done')"
            f" + (SELECT COUNT(*) FROM {RUN} WHERE status = 'done')"
        )
    )


def landing(db: Scratch) -> dict[str, Any] | None:
    """Where the kill left the database: the run left 'running' and its steps, if any."""
    running = db.rows(f"SELECT id, business_date FROM {RUN} WHERE status = 'running'")
    if not running:
        return None
    [(run_id, day)] = running
    steps = dict(
        db.rows(f"SELECT status, COUNT(*) FROM {STEP} WHERE run_id = %s GROUP BY 1", [run_id])
    )
    return {"date": str(day), "steps": steps}


def wait_for(db: Scratch, proc: subprocess.Popen[bytes], target: int) -> bool:
    """Poll until progress reaches `target`; False when the process ended first."""
    while proc.poll() is None:
        if progress(db) >= target:
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def book(tmp_path: Path) -> Any:
    set_business_date(actor=None, new_date=FIRST, allow_backwards=True)
    made = portfolio.generate(LOANS, log=False)
    assert made["loans"] == LOANS
    with scratch_copies(tmp_path) as copy:
        yield copy


def test_cob_killed_at_random_points_then_rerun_equals_a_clean_run(
    book: Any, tmp_path: Path
) -> None:
    clean, killed = book("cob_clean"), book("cob_killed")
    log = tmp_path / "cob.log"
    until = ["--until", UNTIL.isoformat()]
    # The clean run goes on beside the killed ones (its own database, its own process).
    clean_proc = spawn(manage("cob", *until), env_for(clean), tmp_path / "clean.log")

    try:
        # PostgreSQL: two forked worker processes share the partitions (the kill reaches both).
        workers = "2" if killed.vendor == "postgresql" else "1"
        cmd = manage("cob", *until, "--workers", workers)
        env = env_for(killed)
        rng = random.Random(SEED)
        landed: list[dict[str, Any]] = []
        attempts = 0
        while len(landed) < KILLS:
            attempts += 1
            assert attempts <= 3 * KILLS, f"kills kept missing the run: {landed}"
            target = progress(killed) + rng.randint(1, 10)
            proc = spawn(cmd, env, log)
            reached = wait_for(killed, proc, target)
            assert reached, f"exit {proc.returncode} before the kill:\n{log.read_text()[-2000:]}"
            time.sleep(rng.uniform(0, 0.03))
            kill9(proc)
            # Nothing a dead process leaves may look alive: no run 'queued' by it.
            assert killed.rows(f"SELECT business_date FROM {RUN} WHERE status = 'queued'") == []
            where = landing(killed)
            if where is not None:  # else the kill fell between two dates: it still counts as noise
                landed.append(where)
        # Each counted kill left a run 'running'; most of them inside a date's steps.
        undone = [w for w in landed if w["steps"].get("done", 0) < sum(w["steps"].values())]
        assert len(undone) >= KILLS // 2, landed
        assert len({w["date"] for w in landed}) >= 3, landed  # spread over the catch-up

        run(cmd, env, log)  # the restart that is not killed
        assert clean_proc.wait(timeout=120) == 0, (tmp_path / "clean.log").read_text()[-4000:]
    finally:
        if clean_proc.poll() is None:  # a failure above: leave no process behind
            kill9(clean_proc)
    expected = cob_state(clean)
    assert expected["runs"] == [(d, "done") for d, _ in expected["runs"]]
    assert len(expected["runs"]) == (UNTIL - FIRST).days + 1
    assert expected["penalty_postings"] and expected["outbox"] and expected["snapshots"]
    assert cob_state(killed) == expected
    attempts_per_date = killed.rows(f"SELECT MAX(attempts) FROM {RUN}")[0][0]
    assert attempts_per_date >= 2  # some date really was resumed
