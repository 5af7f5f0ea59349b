"""Month-end facts for the vintage and roll-rate analyses (ADR 0013, reports.month_end).

reports_monthendfact holds, per closed month end, loans counted by (disbursement month,
department, owner, product, state at the previous month end, state at this one), plus the
roll-rate rows (no disbursement month, previous state a bucket);
reports_monthendclose lists the month ends taken. Nothing is backfilled: the first analysis
that needs a month end takes it (or COB's snapshot step on the month's last day, or
reports.facts.rebuild()).

Triggers mark a taken month end stale when a write changes what it counted: a loan or an
installment inserted or deleted, a paid-off date or a due date moved, a start date moved, or a
write-off (status / closed_at) — each on or before that month end. The next analysis takes it
again. A change of owner, department or product is not a restatement: the facts keep the loan
where it was reported at each month end (ADR 0013).

Marking bumps `version` too: a take computes a month end without holding locks and only
writes its rows if the version it started from is unchanged (reports.month_end.take).
Moving the business date backwards reopens the month ends from the new date (marked stale).

PostgreSQL: statement triggers with transition tables for INSERT / DELETE, row triggers with a
WHEN clause for UPDATE; the function only writes when the change reaches into a month whose end
is closed or being closed (before the month of the business date's next day), so an ordinary
repayment never touches the table (on a month's last day, those dated that day do).
SQLite: row triggers.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


_CLOSE = "reports_monthendclose"

PG_MARK = f"""
CREATE OR REPLACE FUNCTION reports_month_end_mark(since date) RETURNS void AS $$
BEGIN
    IF since IS NOT NULL AND since < COALESCE(
        (SELECT date_trunc('month', date + 1)::date FROM core_businessdate WHERE id = 1),
        date_trunc('month', CURRENT_DATE + 1)::date
    ) THEN
        UPDATE {_CLOSE} SET stale = true, version = version + 1 WHERE month_end >= since;
    END IF;
END
$$ LANGUAGE plpgsql
"""

_PG_FUNCTIONS = {
    # statement triggers: the earliest start date among the loans written
    "reports_month_end_loan_rows": """
        IF TG_OP = 'INSERT' THEN
            PERFORM reports_month_end_mark((SELECT MIN(start_date) FROM new_rows));
        ELSE
            PERFORM reports_month_end_mark((SELECT MIN(start_date) FROM old_rows));
        END IF;""",
    "reports_month_end_installment_rows": """
        IF TG_OP = 'INSERT' THEN
            PERFORM reports_month_end_mark((SELECT MIN(l.start_date) FROM lending_loan l
                WHERE l.id IN (SELECT loan_id FROM new_rows)));
        ELSE
            PERFORM reports_month_end_mark((SELECT MIN(l.start_date) FROM lending_loan l
                WHERE l.id IN (SELECT loan_id FROM old_rows)));
        END IF;""",
    # row triggers (UPDATE): the earliest date the change reaches back to
    "reports_month_end_loan_row": """
        PERFORM reports_month_end_mark(LEAST(
            CASE WHEN OLD.start_date IS DISTINCT FROM NEW.start_date
                 THEN LEAST(OLD.start_date, NEW.start_date) END,
            CASE WHEN (OLD.status = 'written_off' OR NEW.status = 'written_off')
                  AND (OLD.status, OLD.closed_at) IS DISTINCT FROM (NEW.status, NEW.closed_at)
                 THEN LEAST((OLD.closed_at AT TIME ZONE 'UTC')::date,
                            (NEW.closed_at AT TIME ZONE 'UTC')::date) - 1 END
        ));""",
    "reports_month_end_installment_row": """
        PERFORM reports_month_end_mark(LEAST(
            CASE WHEN OLD.paid_off_on IS DISTINCT FROM NEW.paid_off_on
                 THEN LEAST(OLD.paid_off_on, NEW.paid_off_on) END,
            CASE WHEN OLD.due_date IS DISTINCT FROM NEW.due_date
                 THEN LEAST(OLD.due_date, NEW.due_date) END
        ));""",
}

_LOAN_CHANGED = (
    "OLD.start_date IS DISTINCT FROM NEW.start_date"
    " OR ((OLD.status = 'written_off' OR NEW.status = 'written_off')"
    " AND (OLD.status, OLD.closed_at) IS DISTINCT FROM (NEW.status, NEW.closed_at))"
)
_INSTALLMENT_CHANGED = (
    "OLD.paid_off_on IS DISTINCT FROM NEW.paid_off_on OR OLD.due_date IS DISTINCT FROM NEW.due_date"
)

# (trigger, table, event, function, WHEN of a row trigger or None for a statement trigger)
_TRIGGERS = [
    ("reports_month_end_loan_insert", "lending_loan", "INSERT", "reports_month_end_loan_rows", None),
    ("reports_month_end_loan_delete", "lending_loan", "DELETE", "reports_month_end_loan_rows", None),
    ("reports_month_end_loan_update", "lending_loan", "UPDATE", "reports_month_end_loan_row",
     _LOAN_CHANGED),
    ("reports_month_end_installment_insert", "lending_installment", "INSERT",
     "reports_month_end_installment_rows", None),
    ("reports_month_end_installment_delete", "lending_installment", "DELETE",
     "reports_month_end_installment_rows", None),
    ("reports_month_end_installment_update", "lending_installment", "UPDATE",
     "reports_month_end_installment_row", _INSTALLMENT_CHANGED),
]  # fmt: skip


# The business date moved backwards: the month ends from it on are open again.
PG_REOPEN = [
    f"""CREATE OR REPLACE FUNCTION reports_month_end_reopen() RETURNS trigger AS $$
BEGIN
    UPDATE {_CLOSE} SET stale = true, version = version + 1 WHERE month_end >= NEW.date;
    RETURN NULL;
END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER reports_month_end_reopen AFTER UPDATE ON core_businessdate"
    " FOR EACH ROW WHEN (NEW.date < OLD.date) EXECUTE FUNCTION reports_month_end_reopen()",
]


def _pg_forward() -> list[str]:
    out = [PG_MARK, *PG_REOPEN]
    for name, body in _PG_FUNCTIONS.items():
        out.append(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$"
            f" BEGIN {body} RETURN NULL; END $$ LANGUAGE plpgsql"
        )
    for trigger, table, event, function, when in _TRIGGERS:
        if when is None:
            alias = "NEW TABLE AS new_rows" if event == "INSERT" else "OLD TABLE AS old_rows"
            out.append(
                f"CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {alias}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
        else:
            out.append(
                f"CREATE TRIGGER {trigger} AFTER {event} ON {table}"
                f" FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION {function}()"
            )
    return out


def _pg_backward() -> list[str]:
    return [
        *(f"DROP TRIGGER IF EXISTS {t} ON {table}" for t, table, *_ in _TRIGGERS),
        *(f"DROP FUNCTION IF EXISTS {name}()" for name in _PG_FUNCTIONS),
        "DROP FUNCTION IF EXISTS reports_month_end_mark(date)",
        "DROP TRIGGER IF EXISTS reports_month_end_reopen ON core_businessdate",
        "DROP FUNCTION IF EXISTS reports_month_end_reopen()",
    ]


def _sqlite_mark(where: str) -> str:
    return f"UPDATE {_CLOSE} SET stale = 1, version = version + 1 WHERE {where};"


_NEVER = "'9999-12-31'"
SQLITE_FORWARD = [
    f"""CREATE TRIGGER reports_month_end_loan_insert AFTER INSERT ON lending_loan
BEGIN {_sqlite_mark("month_end >= NEW.start_date")} END""",
    f"""CREATE TRIGGER reports_month_end_loan_delete AFTER DELETE ON lending_loan
BEGIN {_sqlite_mark("month_end >= OLD.start_date")} END""",
    f"""CREATE TRIGGER reports_month_end_loan_update AFTER UPDATE ON lending_loan
WHEN OLD.start_date IS NOT NEW.start_date
  OR ((OLD.status = 'written_off' OR NEW.status = 'written_off')
      AND (OLD.status IS NOT NEW.status OR OLD.closed_at IS NOT NEW.closed_at))
BEGIN {
        _sqlite_mark(
            "(OLD.start_date IS NOT NEW.start_date"
            " AND month_end >= min(OLD.start_date, NEW.start_date))"
            " OR ((OLD.status = 'written_off' OR NEW.status = 'written_off')"
            " AND (OLD.status IS NOT NEW.status OR OLD.closed_at IS NOT NEW.closed_at)"
            f" AND month_end >= date(min(COALESCE(OLD.closed_at, {_NEVER}),"
            f" COALESCE(NEW.closed_at, {_NEVER})), '-1 day'))"
        )
    } END""",
    f"""CREATE TRIGGER reports_month_end_installment_insert AFTER INSERT ON lending_installment
BEGIN {
        _sqlite_mark("month_end >= (SELECT start_date FROM lending_loan WHERE id = NEW.loan_id)")
    } END""",
    f"""CREATE TRIGGER reports_month_end_installment_delete AFTER DELETE ON lending_installment
BEGIN {
        _sqlite_mark("month_end >= (SELECT start_date FROM lending_loan WHERE id = OLD.loan_id)")
    } END""",
    f"""CREATE TRIGGER reports_month_end_installment_update AFTER UPDATE ON lending_installment
WHEN OLD.paid_off_on IS NOT NEW.paid_off_on OR OLD.due_date IS NOT NEW.due_date
BEGIN {
        _sqlite_mark(
            "(OLD.paid_off_on IS NOT NEW.paid_off_on AND month_end >="
            f" min(COALESCE(OLD.paid_off_on, {_NEVER}), COALESCE(NEW.paid_off_on, {_NEVER})))"
            " OR (OLD.due_date IS NOT NEW.due_date"
            " AND month_end >= min(OLD.due_date, NEW.due_date))"
        )
    } END""",
]
SQLITE_REOPEN = f"""CREATE TRIGGER reports_month_end_reopen AFTER UPDATE ON core_businessdate
WHEN NEW.date < OLD.date
BEGIN {_sqlite_mark("month_end >= NEW.date")} END"""
SQLITE_FORWARD.append(SQLITE_REOPEN)
SQLITE_BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS {t}" for t, *_ in _TRIGGERS),
    "DROP TRIGGER IF EXISTS reports_month_end_reopen",
]


def _triggers(forward: bool):
    def run(apps, schema_editor):
        pg = schema_editor.connection.vendor == "postgresql"
        if forward:
            statements = _pg_forward() if pg else SQLITE_FORWARD
        else:
            statements = _pg_backward() if pg else SQLITE_BACKWARD
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('lending', '0009_loan_fillfactor'),
        ('reports', '0007_application_approval_facts'),
        ('core', '0002_drop_redundant_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='MonthEndClose',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month_end', models.DateField(unique=True)),
                ('buckets', models.CharField(max_length=500)),
                ('loans', models.IntegerField()),
                ('taken_at', models.DateTimeField()),
                ('seconds', models.FloatField()),
                ('stale', models.BooleanField(default=False)),
                ('version', models.IntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='MonthEndFact',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month_end', models.DateField()),
                ('cohort', models.DateField(null=True)),
                ('previous', models.CharField(max_length=16)),
                ('state', models.CharField(max_length=16)),
                ('loans', models.IntegerField()),
                ('department', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='accounts.department')),
                ('owner', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('product', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='lending.product')),
            ],
            options={
                'indexes': [models.Index(fields=['month_end', 'cohort'], name='monthendfact_end_cohort'), models.Index(fields=['cohort', 'month_end'], name='monthendfact_cohort_end'), models.Index(fields=['owner'], name='monthendfact_owner')],
            },
        ),
        migrations.RunPython(_triggers(True), _triggers(False), elidable=False),
    ]
