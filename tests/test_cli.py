import itertools
import json

import pytest

from renderfarm_dagster.cli import main
from tests.conftest import EXAMPLES, spec_bytes


def test_validate_accepts_the_examples_with_their_uploaded_template(capsys):
    assert main(["validate", str(EXAMPLES / "templates"), str(EXAMPLES)]) == 0
    out = capsys.readouterr().out
    assert out.count("ok ") == len(list(EXAMPLES.glob("*.json"))) + 1
    assert "template 'lookbook', layers photo (image), band (color), kicker (text)" in out


def test_validate_says_a_spec_needs_its_template_uploaded_first(capsys):
    assert main(["validate", str(EXAMPLES / "summit-jacket.json")]) == 1
    assert (
        "summit-jacket.json: template: template 'lookbook' is neither bundled "
        "(banner, product-card) nor uploaded at templates/lookbook.svg: upload it first"
    ) in capsys.readouterr().err


def test_validate_names_the_element_and_line_of_a_bad_template(tmp_path, capsys):
    template = tmp_path / "promo.svg"
    template.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">\n'
        '  <rect width="10" height="10"/>\n'
        "  <script>alert(1)</script>\n"
        "</svg>\n"
    )
    assert main(["validate", str(template)]) == 1
    assert f"{template}: line 3, <script>:" in capsys.readouterr().err


def test_validate_checks_spec_layers_against_a_template_given_alongside(tmp_path, capsys):
    spec = json.loads((EXAMPLES / "summit-jacket.json").read_text())
    spec["variants"][2]["layers"]["swatch"] = {"text": "blue"}
    spec["layers"]["headline"] = {"text": "Hello"}
    del spec["layers"]["title"]
    path = tmp_path / "summit-jacket.json"
    path.write_text(json.dumps(spec))
    assert main(["validate", str(EXAMPLES / "templates" / "lookbook.svg"), str(path)]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert any(
        line.startswith(f"{path}: layers.headline: template 'lookbook' has no layer 'headline'")
        for line in errors
    )
    assert (
        f"{path}: variants[2].layers.swatch: sets text, but layer 'swatch' of template "
        "'lookbook' is a color layer"
    ) in errors
    assert (
        f"{path}: variants[0].layers: layer 'title' is required by template 'lookbook': "
        "set it here or in layers"
    ) in errors


def test_a_template_file_name_must_be_a_template_name(tmp_path, capsys):
    template = tmp_path / "Promo Card.svg"
    template.write_bytes((EXAMPLES / "templates" / "lookbook.svg").read_bytes())
    assert main(["validate", str(template)]) == 1
    assert "the file name 'Promo Card.svg' does not name a template" in capsys.readouterr().err


def test_a_bundled_template_name_cannot_be_uploaded_over(tmp_path, capsys):
    template = tmp_path / "banner.svg"
    template.write_bytes((EXAMPLES / "templates" / "lookbook.svg").read_bytes())
    assert main(["validate", str(template)]) == 1
    assert "'banner' is a bundled template's name" in capsys.readouterr().err


def test_validate_lists_every_error_with_its_path(tmp_path, spec_doc, capsys):
    spec_doc["variants"][1]["colors"]["primary"] = "blue"
    spec_doc["outputs"][0]["format"] = "gif"
    broken = tmp_path / "broken.json"
    broken.write_bytes(spec_bytes(spec_doc))
    missing = tmp_path / "missing.json"
    assert main(["validate", str(broken), str(missing)]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert f"{broken}: variants[1].colors.primary: not a #rrggbb colour" in errors
    assert any(line.startswith(f"{broken}: outputs[0].format: must be one of") for line in errors)
    assert any(line.startswith(f"{missing}: $: cannot read file") for line in errors)


def test_validate_refuses_a_product_id_ending_in_a_newline(tmp_path, spec_doc, capsys):
    spec_doc["product_id"] = "test-shoe\n"
    spec = tmp_path / "newline.json"
    spec.write_bytes(spec_bytes(spec_doc))
    assert main(["validate", str(spec)]) == 1
    assert f"{spec}: product_id: not a valid id" in capsys.readouterr().err


def test_submit_stores_registers_and_reports_unchanged_and_rejected(
    tmp_path, spec_doc, data_dir, monkeypatch, capsys
):
    import dagster as dg

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    good = tmp_path / "in" / "good.json"
    good.parent.mkdir()
    good.write_bytes(spec_bytes(spec_doc))
    (tmp_path / "in" / "bad.json").write_text(json.dumps({"spec_version": 1}))
    assert main(["submit", str(good.parent)]) == 1
    out = capsys.readouterr()
    assert "submitted 1, unchanged 0, rejected 1" in out.out
    assert "bad.json: product_id: required field is missing" in out.err
    # The summary ends with each rejected file and its first problem.
    summary = out.err.split("rejected:\n")[-1].splitlines()
    assert len(summary) == 1 and summary[0].startswith(f"  {good.parent / 'bad.json'}: ")
    assert summary[0].endswith(" more problem(s))")
    assert (data_dir / "bucket" / "specs" / "test-shoe.json").read_bytes() == good.read_bytes()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_dynamic_partitions("products") == ["test-shoe"]
    assert main(["submit", str(good)]) == 0
    assert "submitted 0, unchanged 1, rejected 0" in capsys.readouterr().out


def test_submit_stores_templates_before_the_specs_that_use_them(
    tmp_path, data_dir, monkeypatch, capsys
):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    spec = EXAMPLES / "summit-jacket.json"
    template = EXAMPLES / "templates" / "lookbook.svg"
    # The spec is named first; the template is still stored before it is checked.
    assert main(["submit", str(spec), str(template)]) == 0
    out = capsys.readouterr().out
    assert "submitted template lookbook -> templates/lookbook.svg" in out
    assert "submitted 1, unchanged 0, rejected 0" in out
    bucket = data_dir / "bucket"
    assert (bucket / "templates" / "lookbook.svg").read_bytes() == template.read_bytes()
    assert (bucket / "specs" / "summit-jacket.json").read_bytes() == spec.read_bytes()
    assert main(["submit", str(template)]) == 0
    assert "unchanged template lookbook" in capsys.readouterr().out


def test_submit_without_dagster_home_says_why(monkeypatch, tmp_path):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with pytest.raises(SystemExit, match="DAGSTER_HOME is not set"):
        main(["submit", str(tmp_path)])


def test_preview_renders_a_bare_template_with_sample_values(tmp_path, capsys):
    from PIL import Image

    assert main(["preview", "--out", str(tmp_path), str(EXAMPLES / "templates")]) == 0
    assert f"wrote {tmp_path / 'lookbook.png'}" in capsys.readouterr().out
    preview = Image.open(tmp_path / "lookbook.png")
    assert preview.format == "PNG" and preview.size == (800, 1000)
    # The sample photo's red corner fills the top-left of the cover box; the hidden-by-default
    # kicker is shown (its teal text sits on the white page).
    assert preview.convert("RGB").getpixel((10, 10)) == (230, 57, 70)
    kicker = preview.convert("RGB").crop((56, 690, 300, 720))
    assert (42, 157, 143) in {colour for _, colour in kicker.getcolors(100_000)}


def test_preview_renders_every_output_of_a_spec_as_png(tmp_path, capsys):
    from PIL import Image

    out = tmp_path / "out"
    argv = ["preview", "--out", str(out), "--assets", str(EXAMPLES / "assets")]
    argv += [str(EXAMPLES / "templates" / "lookbook.svg"), str(EXAMPLES / "summit-jacket.json")]
    assert main(argv) == 0
    spec = json.loads((EXAMPLES / "summit-jacket.json").read_text())
    product = out / "summit-jacket"
    written = sorted(p.relative_to(product).as_posix() for p in product.rglob("*.png"))
    assert written == sorted(
        f"{v['variant_id']}/{o['name']}.png" for v in spec["variants"] for o in spec["outputs"]
    )
    hero = Image.open(out / "summit-jacket" / "blue-m" / "hero.png")
    assert hero.format == "PNG" and hero.size == (1000, 1000)


def test_preview_names_a_missing_photo(tmp_path, capsys):
    argv = ["preview", "--out", str(tmp_path), "--assets", str(tmp_path)]
    argv += [str(EXAMPLES / "templates" / "lookbook.svg"), str(EXAMPLES / "summit-jacket.json")]
    assert main(argv) == 1
    assert "assets/summit-jacket/studio.jpg: cannot read" in capsys.readouterr().err


def test_brand_fonts_are_checked_and_stored_before_the_templates_that_name_them(
    tmp_path, data_dir, monkeypatch, capsys
):
    from tests.defs.test_brand_fonts import BRANDED
    from tests.fonts import brand_font

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    brand = tmp_path / "brand"
    brand.mkdir()
    (brand / "lookbook.svg").write_bytes(BRANDED)
    (brand / "acme-sans-bold.ttf").write_bytes(brand_font(bold=True))
    (brand / "broken.otf").write_bytes(b"OTTO" + b"\0" * 40)
    # The template names "Acme Sans": checked against the font given beside it.
    assert main(["validate", str(brand)]) == 1
    out = capsys.readouterr()
    assert f"ok {brand / 'acme-sans-bold.ttf'}: font family 'Acme Sans' (bold)" in out.out
    assert f"ok {brand / 'lookbook.svg'}: template 'lookbook'" in out.out
    assert f"{brand / 'broken.otf'}: missing font tables" in out.err
    # Submitted: the font first, then the template that names it.
    assert main(["submit", str(brand)]) == 1
    out = capsys.readouterr()
    assert "submitted font acme-sans-bold.ttf -> fonts/acme-sans-bold.ttf" in out.out
    assert "submitted template lookbook -> templates/lookbook.svg" in out.out
    assert f"rejected {brand / 'broken.otf'}: missing font tables" in out.err
    bucket = data_dir / "bucket"
    assert (bucket / "fonts" / "acme-sans-bold.ttf").read_bytes() == brand_font(bold=True)
    assert not (bucket / "fonts" / "broken.otf").exists()
    # Without the font, the same template is refused with the family's name.
    (brand / "acme-sans-bold.ttf").unlink()
    (bucket / "fonts" / "acme-sans-bold.ttf").unlink()
    assert main(["validate", str(brand / "lookbook.svg")]) == 1
    assert 'font family "Acme Sans" is neither bundled' in capsys.readouterr().err


def test_preview_draws_a_template_in_the_brand_font_given_beside_it(tmp_path, data_dir, capsys):
    from PIL import Image

    from tests.defs.test_brand_fonts import BRANDED
    from tests.fonts import brand_font

    brand = tmp_path / "brand"
    brand.mkdir()
    (brand / "lookbook.svg").write_bytes(BRANDED)
    out = tmp_path / "out"
    # Without the font, the template is refused with the family's name.
    assert main(["preview", "--out", str(out), str(brand)]) == 1
    assert 'font family "Acme Sans" is neither bundled' in capsys.readouterr().err
    (brand / "acme-sans-bold.ttf").write_bytes(brand_font(bold=True))
    assert main(["preview", "--out", str(out), str(brand)]) == 0
    title = Image.open(out / "lookbook.png").convert("L").crop((56, 736, 744, 866))
    # Acme Sans draws each letter as one upright bar: the title's ink is in vertical strokes
    # of the font's width (180 units of 1000), where DejaVu's letters would be curves.
    ink = [
        x
        for x in range(title.width)
        if min(title.getpixel((x, y)) for y in range(title.height)) < 128
    ]
    assert ink, "the title is drawn"
    runs, start = [], ink[0]
    for previous, x in itertools.pairwise(ink):
        if x != previous + 1:
            runs.append(previous - start + 1)
            start = x
    runs.append(ink[-1] - start + 1)
    assert len(set(runs)) <= 2, runs


def test_submit_and_status_say_which_products_wait_for_their_photos(
    tmp_path, data_dir, monkeypatch, capsys, instance, storage, messaging
):
    from renderfarm_dagster.defs.spec_sensor import spec_inbox_sensor
    from tests.daemon import SensorDriver

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    spec = EXAMPLES / "summit-jacket.json"
    assert main(["submit", str(spec), str(EXAMPLES / "templates" / "lookbook.svg")]) == 0
    assert (
        "summit-jacket waits for assets/summit-jacket/studio.jpg: the spec sensor requests it "
        "once they are stored"
    ) in capsys.readouterr().out
    assert main(["status"]) == 0
    assert "no product waits for its inputs" in capsys.readouterr().out
    SensorDriver(spec_inbox_sensor, instance, {"storage": storage, "messaging": messaging}).tick()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "1 product(s) wait for inputs not stored yet" in out
    assert "summit-jacket: waits 0.0 h for assets/summit-jacket/studio.jpg" in out
    assert "(requested anyway in 24.0 h)" in out


def test_remove_deletes_what_is_stored_for_a_product_and_its_partition(
    tmp_path, data_dir, monkeypatch, capsys, storage, instance
):
    import dagster as dg

    from renderfarm_dagster.catalog.examples import store_example_inputs
    from tests.defs.test_assets import materialize

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    store_example_inputs(storage.objects())
    assert main(["submit", str(EXAMPLES / "summit-jacket.json")]) == 0
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert materialize(storage, instance, partition_key="summit-jacket").success
    index = storage.inputs()
    index.record("summit-jacket", {"assets/summit-jacket/studio.jpg": "a" * 64})
    index.see({"specs/summit-jacket.json": '["a","b",1]'})
    bucket = data_dir / "bucket"
    outputs = len(list((bucket / "renders" / "summit-jacket").rglob("*.*")))
    assert outputs > 0

    assert main(["remove", "--dry-run", "summit-jacket"]) == 0
    out = capsys.readouterr().out
    assert (
        f"summit-jacket: would remove {outputs + 3} object(s) (1 specs/, {outputs} renders/, "
        f"1 manifests/, 1 previews/), {outputs} checkpoint(s), 1 input index edge(s)"
    ) in out
    assert "dry run: nothing was removed" in out
    assert (bucket / "specs" / "summit-jacket.json").exists()

    assert main(["remove", "summit-jacket"]) == 0
    assert not list((bucket / "renders").rglob("*.*"))
    for folder in ("specs", "manifests", "previews"):
        assert not list((bucket / folder).glob("summit-jacket*"))
    assert storage.checkpoints().read("summit-jacket") == {}
    assert index.inputs_of("summit-jacket") == {}
    assert index.seen(["specs/summit-jacket.json"]) == {}
    # The photo stays: other products may show it.
    assert (bucket / "assets" / "summit-jacket" / "studio.jpg").exists()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_dynamic_partitions("products") == []
    assert main(["remove", "summit-jacket"]) == 1
    assert "summit-jacket: nothing stored and no partition" in capsys.readouterr().err


def test_validate_and_submit_print_what_a_template_was_accepted_with(
    tmp_path, data_dir, monkeypatch, capsys
):
    from tests.hostile.test_hostile_templates import SKETCH_EXPORT

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    template = tmp_path / "card.svg"
    template.write_bytes(SKETCH_EXPORT)
    assert main(["validate", str(template)]) == 0
    out = capsys.readouterr()
    assert f"ok {template}: template 'card'" in out.out
    warning = f'{template}: warning: line 12, <linearGradient>: id "linearGradient-1" is used'
    assert warning in out.err
    assert main(["submit", str(template)]) == 0
    assert f"{template}: warning: line 20, <rect>" in capsys.readouterr().err


def test_validate_ends_with_every_font_the_catalog_lacks_at_once(tmp_path, data_dir, capsys):
    head = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:rf="urn:renderfarm:template:1" '
        'viewBox="0 0 200 200">'
    )
    layer = (
        '<text id="t" rf:layer="text" rf:box="0 0 200 40" font-family="{family}" '
        'font-size="20"{weight}>x</text></svg>'
    )
    (tmp_path / "a.svg").write_text(head + layer.format(family="Inter", weight=""))
    (tmp_path / "b.svg").write_text(
        head + layer.format(family="Miriam Libre", weight=' font-weight="bold"')
    )
    assert main(["validate", str(tmp_path / "a.svg"), str(tmp_path / "b.svg")]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == (
        "the catalog lacks 2 font(s) these templates name; upload them (or .otf files) first: "
        "fonts/inter-regular.ttf, fonts/miriam-libre-bold.ttf"
    )
