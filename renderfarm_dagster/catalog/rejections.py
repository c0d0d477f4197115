"""Moving a refused upload (spec, template, font) out of the way, beside a report of why."""

from __future__ import annotations

import json

from renderfarm_dagster.storage import ObjectNotFoundError, ObjectStore


def set_aside(
    objects: ObjectStore,
    key: str,
    rejected_key: str,
    report: dict,
    content_type: str,
    report_key: str | None = None,
) -> bool:
    """Copy the upload at `key` to `rejected_key`, write `report` beside it (`report_key`,
    by default `<rejected_key>.error.json`), then delete the upload.

    Copy and report are written before the original is deleted: a crash in between leaves the
    upload to be rejected again, never lost. False when nothing is stored at `key` any more.
    """
    try:
        data = objects.get(key)
    except ObjectNotFoundError:
        return False
    objects.put(rejected_key, data, content_type)
    objects.put(
        report_key or f"{rejected_key}.error.json",
        (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
        "application/json",
    )
    objects.delete(key)
    return True
