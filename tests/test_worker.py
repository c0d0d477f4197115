"""The run-worker wrapper: a SIGTERM-stopped worker never exits 0."""

import signal
import subprocess
import sys

# A child that, like `dagster api execute_run`, handles SIGTERM and exits 0.
GRACEFUL_CHILD = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def start(*command):
    return subprocess.Popen(
        [sys.executable, "-m", "renderfarm_dagster.worker", *command],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_sigterm_makes_the_worker_exit_non_zero_even_when_the_child_exits_0():
    worker = start(sys.executable, "-c", GRACEFUL_CHILD)
    assert worker.stdout.readline().strip() == "ready"
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 143


def test_exit_codes_pass_through_without_a_signal():
    assert start(sys.executable, "-c", "raise SystemExit(0)").wait(timeout=30) == 0
    assert start(sys.executable, "-c", "raise SystemExit(3)").wait(timeout=30) == 3


def test_a_child_killed_by_a_signal_is_reported_as_a_shell_would():
    worker = start(sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    assert worker.wait(timeout=30) == 128 + signal.SIGKILL


def test_no_command_is_a_usage_error():
    assert start().wait(timeout=30) == 2


def test_a_command_that_cannot_run_is_reported():
    assert start("/nonexistent/dagster").wait(timeout=30) == 127
