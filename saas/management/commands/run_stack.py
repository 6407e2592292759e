"""Serve the web app, the Celery worker and beat in the foreground; Ctrl-C stops all."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from saas import embedded


class Command(BaseCommand):
    help = "Run web + worker + beat together (what `make run` ends with)."

    def add_arguments(self, parser):
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a developer's own machine

    def handle(self, *args, **options):
        env = dict(os.environ)
        embedded_db = "DATABASE_URL" not in os.environ
        # Start the embedded server for the whole stack (stopped when the stack ends) and
        # hand its URL to the children so they all share it.
        env["DATABASE_URL"] = (
            embedded.embedded_database_start("atrium") if embedded_db else settings.DATABASE_URL
        )
        python = sys.executable
        commands = {
            "web": [
                python,
                "manage.py",
                "runserver",
                f"{options['host']}:{options['port']}",
                "--noreload",
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "saas",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "2",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "saas",
                "beat",
                "-l",
                "info",
                "--schedule",
                str(embedded.data_dir() / "celerybeat-schedule"),
            ],
        }
        processes = {}
        for name, command in commands.items():
            processes[name] = subprocess.Popen(command, env=env, start_new_session=True)
            self.stdout.write(f"started {name} (pid {processes[name].pid})")

        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in processes.items():
                    if proc.poll() is not None:
                        self.stderr.write(
                            f"{name} exited with {proc.returncode}; stopping the rest"
                        )
                        stopping = True
                        break
                time.sleep(0.5)
        finally:
            for proc in processes.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for proc in processes.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
            if embedded_db:
                from django.db import connections

                connections.close_all()
                embedded.stop_embedded_database()
                self.stdout.write("embedded PostgreSQL stopped")
            self.stdout.write("all stopped")
