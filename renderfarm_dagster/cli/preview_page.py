"""`renderfarm preview --watch`: a designer's loop. One warm process polls the given files,
draws each one saved again (and the specs drawn from a saved template; everything when a font
changes) and serves every preview on a local page that reloads itself when anything was
redrawn: every layout side by side, and a file's problems in place of its pictures.

Polling (every POLL_S) rather than inotify: it works the same on every filesystem a designer's
files live on (network shares, editors that save by renaming), at no measurable cost for the
few files of a preview. The page asks for the version of what is drawn every PAGE_POLL_MS.
"""

from __future__ import annotations

import html
import sys
import threading
import time
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from renderfarm_dagster.catalog.preview import PreviewCache
from renderfarm_dagster.cli.context import EXIT_OK
from renderfarm_dagster.cli.files import GivenFiles, input_files, is_font
from renderfarm_dagster.cli.preview import Drawn, draw, report
from renderfarm_dagster.storage import ObjectStore

POLL_S = 0.1
PAGE_POLL_MS = 300
_CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg"}


class PreviewState:
    """What the page shows: the drawn files in order, and a version that changes with them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._drawn: dict[Path, Drawn] = {}
        self._order: list[Path] = []
        self.version = 0
        # Seconds from the last save to its new images, as the page and the log report it.
        self.last_redraw: tuple[str, float] | None = None

    def update(self, paths: Sequence[Path], drawn: Drawn | None = None) -> None:
        """The files given now, and one file's new previews."""
        with self._lock:
            self._order = list(paths)
            if drawn is not None:
                self._drawn[drawn.path] = drawn
            for gone in set(self._drawn) - set(paths):
                del self._drawn[gone]
            self.version += 1

    def redrawn(self, saved: str, seconds: float) -> None:
        with self._lock:
            self.last_redraw = (saved, seconds)
            self.version += 1

    def snapshot(self) -> tuple[int, list[Drawn], tuple[str, float] | None]:
        with self._lock:
            drawn = [self._drawn[path] for path in self._order if path in self._drawn]
            return self.version, drawn, self.last_redraw

    def image(self, index: int, name: str) -> bytes | None:
        _, drawn, _ = self.snapshot()
        if not 0 <= index < len(drawn):
            return None
        return drawn[index].images.get(name)


def page(state: PreviewState) -> str:
    """The page: each file's previews side by side, or its problems; it reloads itself when
    the version it was made from is no longer the current one."""
    version, drawn, last = state.snapshot()
    sections = []
    for index, item in enumerate(drawn):
        heading = f"<h2>{html.escape(item.title)} <small>{html.escape(str(item.path))}</small></h2>"
        if item.problems:
            body = f'<pre class="problems">{html.escape(item.problems)}</pre>'
        else:
            body = "".join(
                f'<figure><img src="/image/{index}/{html.escape(name)}?v={version}" '
                f'alt="{html.escape(name)}"><figcaption>{html.escape(name)}</figcaption></figure>'
                for name in item.images
            )
        sections.append(f"<section>{heading}<div class=row>{body}</div></section>")
    status = (
        f"{html.escape(last[0])} drawn {last[1]:.2f} s after it was saved" if last else "watching"
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>renderfarm preview</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; background: #f4f4f6; color: #1d1d1f; }}
.row {{ display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }}
figure {{ margin: 0; }}
img {{ max-height: 360px; max-width: 640px; background: #fff; box-shadow: 0 1px 4px #0003; }}
figcaption {{ font-size: 0.8em; color: #5a5a60; }}
.problems {{ color: #a4161a; background: #fff0f0; padding: 1em; white-space: pre-wrap; }}
small {{ color: #5a5a60; font-weight: normal; }}
</style></head>
<body><p id=status>{status}</p>{"".join(sections)}
<script>
setInterval(async () => {{
  try {{
    const response = await fetch("/version");
    if ((await response.text()) !== "{version}") location.reload();
  }} catch (error) {{}}
}}, {PAGE_POLL_MS});
</script></body></html>"""


def _handler(state: PreviewState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/":
                self._send(page(state).encode("utf-8"), "text/html; charset=utf-8")
            elif path == "/version":
                self._send(str(state.version).encode(), "text/plain")
            elif path.startswith("/image/"):
                index, _, name = unquote(path.removeprefix("/image/")).partition("/")
                data = state.image(int(index), name) if index.isdigit() else None
                if data is None:
                    self.send_error(HTTPStatus.NOT_FOUND)
                    return
                self._send(data, _CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream"))
            else:
                self.send_error(HTTPStatus.NOT_FOUND)

        def _send(self, body: bytes, content_type: str) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:
            pass  # the page polls several times a second: not worth a line each

    return Handler


def _mtimes(paths: Sequence[Path]) -> dict[Path, float]:
    found = {}
    for path in paths:
        try:
            found[path] = path.stat().st_mtime
        except OSError:
            continue  # removed, or mid-save by renaming: seen on the next poll
    return found


class Watcher:
    """The loop's state between polls: the files given, when each was last saved, and what they
    gave. One `poll` draws what was saved since the last one."""

    def __init__(self, names: Sequence[str], objects: ObjectStore, out: Path, assets: str | None):
        self.names, self.objects, self.out, self.assets = names, objects, out, assets
        self.state = PreviewState()
        self.drawn_before = PreviewCache()
        self.paths = input_files(names)
        self.saved = _mtimes(self.paths)
        self._draw(None, "", 0.0)

    def poll(self) -> tuple[float, float] | None:
        """Draw what changed since the last poll; seconds from its save to the first new
        previews on the page and to the last (None when nothing changed)."""
        paths = input_files(self.names)
        saved = _mtimes(paths)
        changed = {path for path, mtime in saved.items() if self.saved.get(path) != mtime}
        removed = set(self.saved) - set(saved)
        if not changed and not removed and paths == self.paths:
            return None
        self.paths, self.saved = paths, saved
        latest = max((saved[path] for path in changed), default=time.time())
        only = None if any(is_font(path) for path in changed) or removed else changed
        names = ", ".join(sorted(path.name for path in changed)) or "a removed file"
        return self._draw(only, names, latest)

    def _draw(self, only: set[Path] | None, saved: str, saved_at: float) -> tuple[float, float]:
        given = GivenFiles(self.objects, as_uploads=False)
        self.state.update(self.paths)
        first = None
        for item in draw(self.paths, given, self.assets, only, self.drawn_before):
            # On the page as soon as it is drawn: a template's layouts before the specs.
            self.state.update(self.paths, item)
            if first is None:
                first = time.time() - saved_at
            report(item, self.out)
        last = time.time() - saved_at
        first = last if first is None else first
        if saved:
            self.state.redrawn(saved, first)
            print(
                f"{saved}: first new preview {first:.2f} s after the save, all {last:.2f} s",
                flush=True,
            )
        return first, last


def watch(
    names: Sequence[str], objects: ObjectStore, out: Path, assets: str | None, port: int
) -> int:
    """Draw the files, serve the page, and draw again on each save until interrupted."""
    watcher = Watcher(names, objects, out, assets)
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(watcher.state))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"previews on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(POLL_S)
            watcher.poll()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.shutdown()
    return EXIT_OK
