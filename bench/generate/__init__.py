"""Deterministic bench data, one module per domain: customers, loans (with repayments,
collections and the loan applications' flows), applications in other states.

    .venv/bin/python -m bench.generate --scale 1m                 # SQLite file under var/bench/
    DATABASE_URL=postgres://…/loandesk_bench_1m .venv/bin/python -m bench.generate --scale 1m

Every value comes from seeded `random.Random`s (one per domain; the customers one per batch,
so that forked builders make the same rows), so two runs produce the same plaintext rows
(ciphertexts differ: AES-GCM takes a fresh nonce). Rows are written the way the app writes
them — cleaned by the service layer's own functions (`profile.clean_fields`: pinyin,
initials, blind indexes, gender and birth date from the ID number), encrypted by the model's
field — with `customers.bulk.prepare` or as prepared COPY text (COPY on PostgreSQL,
executemany in large transactions on SQLite; `bulkload.py` for the load mode).
"""

SEED = 20261128
SCALES = {"small": 2_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
