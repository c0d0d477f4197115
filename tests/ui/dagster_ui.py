"""A real Dagster webserver and daemon on loopback, over a temporary DAGSTER_HOME and local data.

The tests talk to the webserver the way the UI does: GraphQL over HTTP. Both processes log to
files in the temporary folder, and the tail of those logs is part of every failure message.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from devkit.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXAMPLES = ROOT / "renderfarm_dagster" / "examples"
STARTUP_TIMEOUT_S = 120


@dataclass
class DagsterUI:
    folder: Path
    # The deployment's environment (an aws deployment on a moto server); local by default.
    deployment: dict[str, str] = field(default_factory=dict)
    # Products per backfill run.
    partitions_per_run: int = 2
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def home(self) -> Path:
        return self.folder / "dagster_home"

    @property
    def data_dir(self) -> Path:
        return self.folder / "renderfarm-data"

    @property
    def bucket(self) -> Path:
        return self.data_dir / "bucket"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("RENDERFARM_", "DAGSTER_", "AWS_"))
        }
        return {
            **env,
            "DAGSTER_HOME": str(self.home),
            # As the Makefile and the stack set it (docs/scale-and-performance.md, "Catalog scale").
            "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true",
            "RENDERFARM_DEPLOYMENT": "local",
            "RENDERFARM_DATA_DIR": str(self.data_dir),
            "RENDERFARM_PARTITIONS_PER_RUN": str(self.partitions_per_run),
            "RENDERFARM_UI_URL": self.url,
            **self.deployment,
        }

    def run(self, *command: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            command, cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def start(self, name: str, *command: str) -> None:
        log = (self.folder / f"{name}.log").open("w")
        self.processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: stopping it stops the run workers it started too.
            start_new_session=True,
        )

    def start_webserver(self) -> None:
        self.start(
            "webserver",
            str(BIN / "dagster-webserver"),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workspace",
            "workspace.yaml",
        )
        self.wait_for(self.serving, "the webserver and its code location", STARTUP_TIMEOUT_S)

    def start_daemon(self) -> None:
        self.start("daemon", str(BIN / "dagster-daemon"), "run", "--workspace", "workspace.yaml")

    def serving(self) -> bool:
        """The webserver answers and serves the loaded code location."""
        try:
            return self.location_loaded()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False  # not listening yet

    def location_loaded(self) -> bool:
        data = self.graphql(
            """{ workspaceOrError { ... on Workspace { locationEntries {
                 name loadStatus locationOrLoadError { __typename
                   ... on PythonError { message } } } } } }"""
        )
        entries = data["workspaceOrError"]["locationEntries"]
        for entry in entries:
            error = entry["locationOrLoadError"]
            if error and error["__typename"] == "PythonError":
                raise AssertionError(f"the code location failed to load: {error['message']}")
        return bool(entries) and all(
            e["loadStatus"] == "LOADED" and e["locationOrLoadError"] for e in entries
        )

    def graphql(self, query: str, **variables) -> dict:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def wait_for(self, condition, what: str, timeout_s: float = 240, every_s: float = 1.0):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check_alive()
            result = condition()
            if result:
                return result
            time.sleep(every_s)
        raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}{self.logs()}")

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(
                    f"dagster {name} exited with {process.returncode}{self.logs()}"
                )

    def logs(self, tail: int = 3000) -> str:
        parts = []
        for name in self.processes:
            text = (self.folder / f"{name}.log").read_text(errors="replace")
            parts.append(f"\n--- {name} log (tail) ---\n{text[-tail:]}")
        return "".join(parts)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def new_ui(folder: Path, **settings) -> DagsterUI:
    """A webserver and daemon to be, over a fresh DAGSTER_HOME in `folder`."""
    ui = DagsterUI(folder, **settings)
    ui.home.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "ui" / "dagster.yaml", ui.home / "dagster.yaml")
    return ui


def start_ui(folder: Path) -> DagsterUI:
    """The example catalog submitted (specs stored, partitions registered), the webserver up."""
    ui = new_ui(folder)
    # Photos and the example template stored first, as a catalog team uploads them.
    ui.run(str(BIN / "renderfarm"), "examples")
    ui.run(str(BIN / "renderfarm"), "submit", str(EXAMPLES))
    ui.start_webserver()
    return ui
