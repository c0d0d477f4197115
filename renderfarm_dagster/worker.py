"""The run worker's entry point on ECS: runs the command it is given, and exits non-zero when
it was stopped by SIGTERM.

Fargate Spot reclaims a task with SIGTERM (then SIGKILL up to 120 s later). `dagster api
execute_run` handles SIGTERM by failing the run and then exits 0, and dagster-aws's
EcsRunLauncher reads a stopped task whose containers all exited 0 as a success
(https://github.com/dagster-io/dagster/blob/master/python_modules/libraries/dagster-aws/dagster_aws/ecs/launcher.py,
check_run_worker_health). This wrapper is the image's ENTRYPOINT: EcsRunLauncher overrides
only the command, so every run worker goes through it.
"""

from __future__ import annotations

import signal
import subprocess
import sys

# 128 + SIGTERM, as a shell reports a process killed by SIGTERM.
EXIT_TERMINATED = 128 + signal.SIGTERM
# As a shell reports a command it cannot find or run.
EXIT_NOT_RUNNABLE = 127


def main(argv: list[str] | None = None) -> int:
    command = list(sys.argv[1:] if argv is None else argv)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        print("usage: renderfarm-worker <command> [args...]", file=sys.stderr)
        return 2
    try:
        child = subprocess.Popen(command)
    except OSError as error:
        print(f"renderfarm-worker: cannot run {command[0]!r}: {error}", file=sys.stderr)
        return EXIT_NOT_RUNNABLE
    terminated = False

    def forward(signum, frame):
        nonlocal terminated
        terminated = True
        # The child (Dagster) does the graceful part: it stops the step, which records the
        # checkpoints of what landed, and marks the run failed.
        child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    code = child.wait()
    if terminated:
        # Whatever the child made of it (`dagster api execute_run` exits 0, `dagster job
        # execute` 1): the worker was stopped, and says so.
        return EXIT_TERMINATED
    # A child killed by a signal has a negative code; report it as a shell would.
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main())
