"""Inputs travel to the render processes once (catalog/pool_inputs.py): a job names its template,
photos and fonts by sha256, each input is written once, and a render process reads each once and
keeps it while it is used. The bytes sent per variant are measured, not timed."""

import dataclasses
import pickle

from renderfarm_dagster.catalog.pool import RenderPool
from renderfarm_dagster.catalog.pool_inputs import InputCache, InputFolder, InputRef, PackedJob
from renderfarm_dagster.catalog.rendering import render_spec_variant
from renderfarm_dagster.render.fonts import FontFace
from renderfarm_dagster.spec import parse_spec
from tests.conftest import bundled_job, spec_bytes

FONT_BYTES = 20 * 1024 * 1024


def product_jobs(spec_doc, variants: int):
    """The jobs of a product of `variants` variants whose template names a 20 MB brand font."""
    spec_doc["variants"] = [
        {**spec_doc["variants"][0], "variant_id": f"v{index:02d}"} for index in range(variants)
    ]
    spec = parse_spec(spec_bytes(spec_doc), "test").spec
    font = bytes(range(256)) * (FONT_BYTES // 256)
    face = FontFace("Acme Sans", False, "", "f" * 64)
    return [
        dataclasses.replace(bundled_job(spec, variant.variant_id), fonts=((face, font),))
        for variant in spec.variants
    ]


def test_a_25_variant_product_sends_its_20_mb_font_once(spec_doc):
    jobs = product_jobs(spec_doc, 25)
    folder = InputFolder(queued_jobs=6)
    try:
        sent = [pickle.dumps(folder.pack(job)) for job in jobs]
        before = sum(len(pickle.dumps(job)) for job in jobs) / len(jobs)
        after = sum(len(data) for data in sent) / len(jobs)
        # Each job carried the whole font; now it names it (and its template) by sha256.
        assert before > FONT_BYTES
        assert after < 4096, after
        written = sorted(path.stat().st_size for path in folder.path.iterdir())
        assert written.count(FONT_BYTES) == 1  # the font, written once for 25 variants
        worker = InputCache(folder.path)
        received = [worker.unpack(pickle.loads(data)) for data in sent]
        assert received == jobs
        assert worker.reads == len(written)  # each input read once by this process
    finally:
        folder.close()
    assert not folder.path.exists()


def test_the_folder_keeps_only_the_inputs_recently_sent(spec_doc):
    (job,) = product_jobs(spec_doc, 1)
    folder = InputFolder(queued_jobs=1)
    try:
        for index in range(folder.remembered + 50):
            photo = f"photo {index}".encode()
            folder.pack(dataclasses.replace(job, photos={"assets/p.png": photo}, fonts=()))
        assert len(list(folder.path.iterdir())) <= folder.remembered
    finally:
        folder.close()


def test_a_render_process_keeps_what_fits_its_budget(tmp_path, spec_doc):
    (job,) = product_jobs(spec_doc, 1)
    job = dataclasses.replace(job, photos={}, fonts=())
    for name, size in (("a", 60), ("b", 60), ("c", 60)):
        (tmp_path / name).write_bytes(b"x" * size)
    cache = InputCache(tmp_path, budget=130)
    packed = [
        PackedJob(dataclasses.replace(job, template_layouts={"main": InputRef(name)}))
        for name in ("a", "b", "c", "c", "a")
    ]
    for job in packed:
        cache.unpack(job)
    # a, b, c read; a was dropped for c (the budget holds two), so a is read again.
    assert cache.reads == 4


def test_the_pool_renders_the_same_bytes_as_this_process(spec_doc):
    spec = parse_spec(spec_bytes(spec_doc), "test").spec
    expected = {
        (variant.variant_id, output.output_name): output.data
        for variant in spec.variants
        for output in render_spec_variant(spec, variant.variant_id)
    }
    jobs = [bundled_job(spec, variant.variant_id) for variant in spec.variants]
    with RenderPool(workers=2) as pool:
        rendered = {
            (output.variant_id, output.output_name): output.data
            for _, outputs in pool.render(jobs)
            for output in outputs
        }
    assert rendered == expected
