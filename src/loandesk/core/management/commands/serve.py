"""`loandesk serve`: migrate, then run the web server, the task worker and the scheduler."""

import os
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Run LoanDesk: gunicorn web workers, the background task worker and the scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("LOANDESK_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("LOANDESK_PORT", "8000"))
        )
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("LOANDESK_WEB_WORKERS", "2"))
        )
        parser.add_argument(
            "--task-workers",
            type=int,
            default=int(os.environ.get("LOANDESK_TASK_WORKERS", "1")),
            help="Background task worker processes (0 to run them elsewhere).",
        )
        parser.add_argument(
            "--task-queues",
            default=os.environ.get("LOANDESK_TASK_QUEUES", "default,cob"),
            help="Queues the task workers take: 'default' (everything) and 'cob' (COB's "
            "partitions when LOANDESK_COB_VIA_TASKS is on); 'cob' alone for COB-only machines.",
        )
        parser.add_argument("--no-scheduler", action="store_true")
        parser.add_argument(
            "--no-web", action="store_true", help="No web server (a task-worker machine)."
        )
        parser.add_argument("--no-migrate", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        if settings.STATICFILES_DIRS:
            call_command("collectstatic", interactive=False, verbosity=0)
        loandesk = [sys.executable, "-m", "loandesk.manage"]
        commands: list[tuple[str, list[str]]] = [
            (
                "web",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "loandesk.wsgi:application",
                    "--bind",
                    f"{options['host']}:{options['port']}",
                    "--workers",
                    str(options["workers"]),
                    "--threads",
                    "4",
                    "--access-logfile",
                    "-",
                    "--graceful-timeout",
                    "10",
                    # Longer than gunicorn's 2 s default: a phone pausing between taps reuses
                    # its connection instead of racing the server's close of it.
                    "--keep-alive",
                    "5",
                ],
            )
        ]
        if options["no_web"]:
            commands = []
        for n in range(options["task_workers"]):
            commands.append(
                (
                    f"tasks-{n + 1}",
                    [
                        *loandesk,
                        "db_worker",
                        "--interval",
                        "0.5",
                        "--no-startup-delay",
                        "--queue-name",
                        options["task_queues"],
                    ],
                )
            )
        if not options["no_scheduler"]:
            commands.append(("scheduler", [*loandesk, "scheduler"]))

        if not commands:
            raise CommandError("nothing to run: no web server, no task workers, no scheduler")
        children = [(name, subprocess.Popen(cmd)) for name, cmd in commands]  # noqa: S603
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        where = "" if options["no_web"] else f" at http://{options['host']}:{options['port']}"
        self.stdout.write(
            f"LoanDesk is running{where}  "
            f"({', '.join(name for name, _ in children)}); Ctrl-C stops everything."
        )
        exit_code = 0
        try:
            while not stopping:
                for name, proc in children:
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; stopping.")
                        exit_code = proc.returncode or 1
                        stopping = True
                time.sleep(0.5)
        finally:
            for _, proc in children:
                if proc.poll() is None:
                    proc.terminate()
            deadline = time.time() + 15
            for _, proc in children:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    proc.kill()
        if exit_code:
            sys.exit(exit_code)
