"""Uploaded templates are untrusted: each hostile one is refused with the element and line at
fault, before anything renders; what an editor exports is accepted."""

import io

import pytest
from PIL import Image

from renderfarm_dagster.render.errors import TemplateError
from renderfarm_dagster.render.svg_document import (
    MAX_BLUR_DEVIATION,
    MAX_ELEMENTS,
    MAX_FILTER_PRIMITIVES,
    MAX_TEMPLATE_BYTES,
    MAX_USE_ELEMENTS,
)
from renderfarm_dagster.render.template import parse_template

HEAD = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:rf="urn:renderfarm:template:1" width="100" height="100" viewBox="0 0 100 100">\n'
)
RECT = '<rect width="10" height="10"/>\n'

# name -> (document, the first problem's line, its element, a fragment of its message)
HOSTILE = {
    "script": (HEAD + RECT + "<script>alert(1)</script>\n</svg>", 3, "script", "not allowed"),
    "event handler": (
        HEAD + '<rect width="10" height="10" onload="alert(1)"/>\n</svg>',
        2,
        "rect",
        "event-handler attribute onload",
    ),
    "foreignObject": (
        HEAD + '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml"/></foreignObject></svg>',
        2,
        "foreignObject",
        "not allowed",
    ),
    "image from a file": (
        HEAD + '<image href="file:///etc/passwd" width="10" height="10"/>\n</svg>',
        2,
        "image",
        "an <image> may only embed a PNG, JPEG or WebP",
    ),
    "embedded SVG document": (
        HEAD + '<image href="data:image/svg+xml;base64,PHN2Zy8+" width="10" height="10"/>\n</svg>',
        2,
        "image",
        "an <image> may only embed a PNG, JPEG or WebP",
    ),
    "embedded HTML": (
        HEAD + '<image href="data:text/html;base64,PGh0bWw+" width="10" height="10"/>\n</svg>',
        2,
        "image",
        "an <image> may only embed a PNG, JPEG or WebP",
    ),
    "image referring to another element": (
        HEAD + '<rect id="r" width="1" height="1"/><image href="#r" width="10" height="10"/>\n'
        "</svg>",
        2,
        "image",
        "an <image> may only embed a PNG, JPEG or WebP",
    ),
    "use of another document": (
        HEAD + '<use href="http://evil.example/x.svg#a"/>\n</svg>',
        2,
        "use",
        "refers outside the document",
    ),
    "xlink to a local file": (
        HEAD + RECT + '<use xlink:href="/etc/passwd#a"/>\n</svg>',
        3,
        "use",
        "refers outside the document",
    ),
    "CSS url() in style": (
        HEAD + '<rect width="1" height="1" style="fill:url(http://evil.example/p.svg#g)"/></svg>',
        2,
        "rect",
        "CSS refers outside the document",
    ),
    "paint from a data URI": (
        HEAD + '<rect width="1" height="1" fill="url(data:image/svg+xml;base64,AAAA)"/></svg>',
        2,
        "rect",
        "fill refers outside the document",
    ),
    "CSS @import": (
        HEAD + "<style>@import url(http://evil.example/x.css);</style>\n</svg>",
        2,
        "style",
        "@import",
    ),
    "javascript link": (
        HEAD + '<a href="javascript:alert(1)"><rect width="1" height="1"/></a></svg>',
        2,
        "a",
        "refers outside the document",
    ),
    "animation": (
        HEAD + '<rect width="1" height="1"><set attributeName="fill" to="red"/></rect></svg>',
        2,
        "set",
        "not allowed",
    ),
    "external entity (XXE)": (
        '<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        + HEAD
        + "<text>&x;</text></svg>",
        2,
        "",
        "DOCTYPE",
    ),
    "billion laughs": (
        '<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n' + HEAD + "<text>&b;</text></svg>",
        2,
        "",
        "DOCTYPE",
    ),
    "parameter entity": (
        '<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY % p "x">]>\n' + HEAD + RECT + "</svg>",
        2,
        "",
        "a parameter entity (p) in a DOCTYPE",
    ),
    "DOCTYPE naming another DTD": (
        '<!DOCTYPE svg SYSTEM "http://evil.example/x.dtd">\n' + HEAD + RECT + "</svg>",
        1,
        "",
        "a DOCTYPE naming a DTD other than W3C's SVG DTD",
    ),
    "DOCTYPE of another document type": (
        "<!DOCTYPE html>\n" + HEAD + RECT + "</svg>",
        1,
        "",
        "a DOCTYPE for 'html'",
    ),
    "attribute defaults in a DOCTYPE": (
        '<!DOCTYPE svg [\n<!ATTLIST rect onload CDATA "alert(1)">]>\n' + HEAD + RECT + "</svg>",
        2,
        "",
        "a DOCTYPE with declarations other than plain-string entities",
    ),
    "entity holding markup": (
        '<!DOCTYPE svg [\n<!ENTITY s "<script>alert(1)</script>">]>\n' + HEAD + "<g>&s;</g></svg>",
        2,
        "",
        "whose value holds markup or refers to another entity",
    ),
    "entity expansion bomb": (
        '<!DOCTYPE svg [<!ENTITY a "'
        + "a" * 256
        + '">]>\n'
        + HEAD
        + "<desc>\n"
        + "&a;" * 1000
        + "\n&a;</desc></svg>",
        5,
        "",
        "more than 1000 entity references",
    ),
    "entity longer than the limit": (
        '<!DOCTYPE svg [<!ENTITY a "' + "a" * 257 + '">]>\n' + HEAD + RECT + "</svg>",
        1,
        "",
        "longer than 256 characters",
    ),
    "too many entities": (
        "<!DOCTYPE svg [\n"
        + "".join(f'<!ENTITY e{i} "x">\n' for i in range(33))
        + "]>\n"
        + HEAD
        + RECT
        + "</svg>",
        34,
        "",
        "more than 32 entities",
    ),
    "entity the DOCTYPE does not declare": (
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
        + HEAD
        + "<desc>&nbsp;</desc></svg>",
        3,
        "",
        "a reference to an entity the DOCTYPE does not declare",
    ),
    "stylesheet instruction": (
        '<?xml version="1.0"?>\n<?xml-stylesheet href="http://evil.example/x.css"?>\n'
        + HEAD
        + "</svg>",
        2,
        "",
        "processing instruction",
    ),
    "deep nesting": (HEAD + "<g>" * 60 + "</g>" * 60 + "</svg>", 2, "g", "nested deeper"),
    "too many elements": (HEAD + RECT * (MAX_ELEMENTS + 1) + "</svg>", 0, "", "elements"),
    "too many uses": (
        HEAD + '<defs><g id="a">' + RECT + "</g></defs>\n" + '<use href="#a"/>\n' * 250 + "</svg>",
        0,
        "",
        f"over the limit of {MAX_USE_ELEMENTS}",
    ),
    "oversized file": (
        HEAD + "<desc>" + "x" * MAX_TEMPLATE_BYTES + "</desc></svg>",
        0,
        "",
        "limit",
    ),
    "not XML": ("hello", 1, "", "not well-formed XML"),
    "a NUL byte": (HEAD + "<desc>a\x00b</desc></svg>", 2, "", "not well-formed"),
    "not SVG": ('<html xmlns="http://www.w3.org/1999/xhtml"/>', 1, "", "root element"),
    "no design size": (
        '<svg xmlns="http://www.w3.org/2000/svg" width="10cm" height="10cm">' + RECT + "</svg>",
        1,
        "svg",
        "viewBox",
    ),
    "unavailable font": (
        HEAD + '<text id="t" rf:layer="text" rf:box="0 0 100 20" font-family="Comic Sans MS" '
        'font-size="12">x</text></svg>',
        2,
        "text",
        'font family "Comic Sans MS" is neither bundled',
    ),
    "duplicate layer id": (
        HEAD
        + '<rect id="a" rf:layer="color" width="1" height="1" fill="#000000"/>\n'
        + '<rect id="a" rf:layer="color" width="1" height="1" fill="#000000"/>\n</svg>',
        3,
        "rect",
        'id "a" is used twice, and names a layer',
    ),
    "an id of a layer used again elsewhere": (
        HEAD
        + '<rect id="a" rf:layer="color" width="1" height="1" fill="#000000"/>\n'
        + '<circle id="a" r="3"/>\n</svg>',
        3,
        "circle",
        'id "a" is used twice, and names a layer',
    ),
    "unknown layer kind": (
        HEAD + '<rect id="a" rf:layer="video" width="1" height="1"/></svg>',
        2,
        "rect",
        "not one of color, image, text",
    ),
    "filter image from outside": (
        HEAD + '<filter id="f">\n<feImage href="http://169.254.169.254/x.png"/></filter>\n'
        '<rect width="10" height="10" filter="url(#f)"/></svg>',
        3,
        "feImage",
        "<feImage> is not allowed",
    ),
    "a filter primitive that is not drawn": (
        HEAD + '<filter id="f">\n<feTurbulence baseFrequency="0.05"/></filter></svg>',
        3,
        "feTurbulence",
        "flatten this effect in the design tool",
    ),
    "a huge blur radius": (
        HEAD + '<filter id="f">\n<feGaussianBlur stdDeviation="5 100000"/></filter></svg>',
        3,
        "feGaussianBlur",
        f"over the limit of {MAX_BLUR_DEVIATION:g}",
    ),
    "a filter chain of thousands of primitives": (
        HEAD + '<filter id="f">\n' + '<feOffset dx="1"/>' * 5000 + "</filter></svg>",
        2,
        "filter",
        f"5000 filter primitives, over the limit of {MAX_FILTER_PRIMITIVES}",
    ),
    "filter functions in a sheet": (
        HEAD + "<style>rect { filter: blur(9999px) }</style>\n" + RECT + "</svg>",
        3,
        "rect",
        "CSS filter functions are not supported",
    ),
    "text layer without a box": (
        HEAD + '<text id="t" rf:layer="text" rf:box="0 0 nope" font-family="DejaVu Sans" '
        'font-size="12">x</text></svg>',
        2,
        "text",
        "rf:box",
    ),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_template_is_refused_naming_element_and_line(name):
    document, line, element, fragment = HOSTILE[name]
    with pytest.raises(TemplateError) as refused:
        parse_template(document.encode("utf-8"), "templates/x.svg", "x")
    first = refused.value.problems[0]
    assert (first.line, first.element) == (line, element), refused.value
    assert fragment in first.message, refused.value
    # The report stored beside a rejected upload says the same.
    report = refused.value.to_report()
    assert report["source"] == "templates/x.svg"
    assert report["errors"][0] == {"line": line, "element": element, "message": first.message}


INKSCAPE_EXPORT = b"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!-- Created with Inkscape (http://www.inkscape.org/) -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:svg="http://www.w3.org/2000/svg"
     xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
     xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
     xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
     xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:cc="http://creativecommons.org/ns#"
     xmlns:rf="urn:renderfarm:template:1"
     width="400mm" height="300mm" viewBox="0 0 400 300" version="1.1" id="svg1"
     inkscape:version="1.2.2 (b0a8486541, 2022-12-01)" sodipodi:docname="promo.svg">
  <sodipodi:namedview id="namedview1" pagecolor="#ffffff" inkscape:zoom="0.5"/>
  <defs id="defs1">
    <linearGradient id="fade" inkscape:collect="always">
      <stop offset="0" style="stop-color:#ffffff;stop-opacity:1"/>
      <stop offset="1" style="stop-color:#e0e0e0;stop-opacity:1"/>
    </linearGradient>
  </defs>
  <metadata id="metadata1"><rdf:RDF><cc:Work rdf:about=""><dc:title>promo</dc:title>
  </cc:Work></rdf:RDF></metadata>
  <g inkscape:label="Layer 1" inkscape:groupmode="layer" id="layer1">
    <rect id="background" style="fill:url(#fade)" width="400" height="300" x="0" y="0"/>
    <rect id="hero" rf:layer="image" rf:fit="cover" x="20" y="20" width="200" height="260"
          style="fill:#cccccc"/>
    <text id="headline" rf:layer="text" rf:box="240 40 140 80" rf:max-lines="2"
          rf:min-size="12" xml:space="preserve"
          style="font-family:'DejaVu Sans';font-size:24px;fill:#222222">Headline</text>
    <rect id="brand" rf:layer="color" x="240" y="260" width="140" height="20" fill="#0055aa"/>
  </g>
</svg>
"""


def test_an_inkscape_export_with_layer_ids_is_a_template():
    template = parse_template(INKSCAPE_EXPORT, "promo.svg", "promo")
    assert {name: layer.kind for name, layer in template.layers.items()} == {
        "hero": "image",
        "headline": "text",
        "brand": "color",
    }
    assert (template.design_width, template.design_height) == (400, 300)


def test_an_inkscape_export_renders_its_layers_with_styles_read_from_style_attributes():
    from renderfarm_dagster.catalog.preview import template_previews
    from renderfarm_dagster.catalog.templates import TemplateSource
    from renderfarm_dagster.render.kinds.text import TextLayer

    template = parse_template(INKSCAPE_EXPORT, "promo.svg", "promo")
    headline = template.layers["headline"]
    assert isinstance(headline, TextLayer) and headline.max_size == 24
    png = template_previews(TemplateSource("promo", INKSCAPE_EXPORT, template, False))["promo.png"]
    assert png.startswith(b"\x89PNG")


ILLUSTRATOR_EXPORT = b"""<?xml version="1.0" encoding="utf-8"?>
<!-- Generator: Adobe Illustrator 24.0.0, SVG Export Plug-In . SVG Version: 6.00 Build 0)  -->
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [
\t<!ENTITY ns_extend "http://ns.adobe.com/Extensibility/1.0/">
\t<!ENTITY ns_ai "http://ns.adobe.com/AdobeIllustrator/10.0/">
\t<!ENTITY ns_graphs "http://ns.adobe.com/Graphs/1.0/">
\t<!ENTITY ns_svg "http://www.w3.org/2000/svg">
\t<!ENTITY ns_xlink "http://www.w3.org/1999/xlink">
]>
<svg version="1.1" id="Layer_1" xmlns:x="&ns_extend;" xmlns:i="&ns_ai;" xmlns:graph="&ns_graphs;"
\t xmlns="&ns_svg;" xmlns:xlink="&ns_xlink;" xmlns:rf="urn:renderfarm:template:1" x="0px" y="0px"
\t viewBox="0 0 200 200" style="enable-background:new 0 0 200 200;" xml:space="preserve">
<g i:extraneous="self">
\t<rect x="10" y="10" width="180" height="180" fill="#F4A261"/>
\t<rect id="band" rf:layer="color" x="10" y="150" width="180" height="20" fill="#2A9D8F"/>
</g>
</svg>
"""


def test_an_illustrator_export_with_its_namespace_entities_is_a_template():
    """Illustrator declares its namespaces as entities in a DOCTYPE naming the SVG 1.1 DTD (never
    read): accepted, the entities expanded, and drawn."""
    from renderfarm_dagster.catalog.preview import template_previews
    from renderfarm_dagster.catalog.templates import TemplateSource

    template = parse_template(ILLUSTRATOR_EXPORT, "templates/ai.svg", "ai")
    assert set(template.layers) == {"band"}
    source = TemplateSource("ai", ILLUSTRATOR_EXPORT, template, False)
    preview = Image.open(io.BytesIO(template_previews(source)[f"{source.name}.png"]))
    assert preview.convert("RGB").getpixel((100, 50)) == (0xF4, 0xA2, 0x61)
    assert preview.convert("RGB").getpixel((100, 160)) == (0x2A, 0x9D, 0x8F)


SKETCH_EXPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg width="200px" height="200px" viewBox="0 0 200 200" version="1.1"
     xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:rf="urn:renderfarm:template:1">
    <!-- Generator: Sketch 64 (93537) - https://sketch.com -->
    <title>Card</title>
    <defs>
        <linearGradient x1="0%" y1="0%" x2="0%" y2="100%" id="linearGradient-1">
            <stop stop-color="#FF0000" offset="0%"></stop>
            <stop stop-color="#FF0000" offset="100%"></stop>
        </linearGradient>
        <linearGradient x1="0%" y1="0%" x2="0%" y2="100%" id="linearGradient-1">
            <stop stop-color="#0000FF" offset="0%"></stop>
            <stop stop-color="#0000FF" offset="100%"></stop>
        </linearGradient>
    </defs>
    <g id="Page-1" stroke="none" stroke-width="1" fill="none" fill-rule="evenodd">
        <rect id="Rectangle" fill="url(#linearGradient-1)" x="0" y="0" width="200"
              height="150"></rect>
        <rect id="Rectangle" fill="#00AA00" x="0" y="150" width="200" height="50"></rect>
        <rect id="band" rf:layer="color" x="0" y="180" width="200" height="20" fill="#2A9D8F"/>
    </g>
</svg>
"""


def test_ids_used_again_outside_layers_resolve_to_the_first_as_in_browsers_with_a_warning():
    """Sketch writes the same id on several elements: a reference goes to the first element
    with the id (browsers' getElementById), the later ones are renamed, and the upload is told."""
    from renderfarm_dagster.catalog.preview import template_previews
    from renderfarm_dagster.catalog.templates import TemplateSource

    template = parse_template(SKETCH_EXPORT, "templates/card.svg", "card")
    warned = [(warning.line, warning.element) for warning in template.warnings]
    assert warned == [(12, "linearGradient"), (20, "rect")]
    assert 'id "linearGradient-1" is used again (first at line 8)' in template.warnings[0].message
    assert 'drawn as "Rectangle-2"' in template.warnings[1].message
    source = TemplateSource("card", SKETCH_EXPORT, template, False)
    preview = Image.open(io.BytesIO(template_previews(source)[f"{source.name}.png"])).convert("RGB")
    assert preview.getpixel((100, 75)) == (255, 0, 0)  # the first gradient: red, as in browsers
    assert preview.getpixel((100, 160)) == (0, 0xAA, 0)
