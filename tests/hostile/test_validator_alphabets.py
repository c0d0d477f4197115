"""Every string a validator accepts consists only of its documented alphabet.

The strategies mix arbitrary text with strings built around a valid match (hypothesis's
`from_regex` without `fullmatch` adds text before and after it), so a validator that checks only
a prefix, or lets `$` match before a final newline, is caught.
"""

import ast
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from renderfarm_dagster import keys, spec_fields
from renderfarm_dagster.messaging.events import UnreadableMessage, spot_event

PACKAGE = Path(spec_fields.__file__).parent
ID_ALPHABET = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
KEY_ALPHABET = ID_ALPHABET | {".", "/"}
CASES = settings(max_examples=300, deadline=None)


def accepted(validate: Callable[[str], object], value: str) -> bool:
    try:
        validate(value)
    except ValueError:  # InvalidKeyError and the spec validators' errors are ValueErrors
        return False
    return True


def around(pattern: str) -> st.SearchStrategy[str]:
    """Text around a match of `pattern`, and plain text."""
    return st.from_regex(pattern) | st.text(max_size=80)


ID_LIKE = r"[a-z0-9][a-z0-9_-]{0,63}"


@CASES
@given(around(ID_LIKE))
@example("shoe\n")
@example("shoe\r\n")
def test_ids(value):
    if accepted(spec_fields._check_id, value):
        assert set(value) <= ID_ALPHABET and 1 <= len(value) <= 64
    for build in (keys.spec_key, keys.manifest_key, keys.preview_key):
        if accepted(build, value):
            assert set(value) <= ID_ALPHABET


@CASES
@given(around(r"renders/[a-z0-9]{1,8}/[a-z0-9]{1,8}/[a-z0-9]{1,8}\.png"))
@example("specs/x.json\n")
@example("renders/p1/v1/hero.png\n")
def test_keys(value):
    if accepted(keys.validate_key, value):
        assert set(value) <= KEY_ALPHABET
        assert all(segment and not segment.startswith(".") for segment in value.split("/"))


@CASES
@given(around(ID_LIKE), around(ID_LIKE), around(ID_LIKE))
@example("p1\n", "v1", "hero")
def test_output_keys(product_id, variant_id, output_name):
    def build(_):
        return keys.output_key(product_id, variant_id, output_name, "png")

    if accepted(build, ""):
        assert set(product_id + variant_id + output_name) <= ID_ALPHABET


@CASES
@given(around(r"specs/[a-z0-9]{1,10}\.json"))
@example("specs/shoe.json\n")
def test_product_ids_from_spec_keys(key):
    product_id = keys.product_id_from_spec_key(key)
    if product_id is not None:
        assert set(product_id) <= ID_ALPHABET
        assert key == f"specs/{product_id}.json"


@CASES
@given(around(r"#[0-9a-fA-F]{6}"))
@example("#aabbcc\n")
def test_colours(value):
    if accepted(spec_fields._check_colour, value):
        assert re.fullmatch(r"#[0-9a-f]{6}", spec_fields._check_colour(value), re.ASCII)


@CASES
@given(around(r"[0-9]{1,6}(\.[0-9]{2})?"))
@example("89.00\n")
@example("\u0668\u0669")  # Arabic-Indic digits: str.isdigit and `\d` both take them
def test_amounts(value):
    if accepted(spec_fields._check_amount, value):
        assert set(value) <= set("0123456789.")


@CASES
@given(around(r"[A-Z]{3}"))
@example("EUR\n")
def test_currencies(value):
    if accepted(spec_fields._check_currency, value):
        assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ") and len(value) == 3


def spot_stop_event(task_arn: str) -> str:
    return json.dumps(
        {
            "id": "event-1",
            "source": "aws.ecs",
            "detail-type": "ECS Task State Change",
            "detail": {"stopCode": "SpotInterruption", "taskArn": task_arn},
        }
    )


@pytest.mark.parametrize(
    "task_arn",
    [
        "arn:aws:ecs:us-east-1:111122223333:task/render/abc\n",
        # `\d` takes any Unicode digit: these are Arabic-Indic.
        "arn:aws:ecs:us-east-1:" + "\u0661" * 12 + ":task/render/abc",
    ],
)
def test_event_task_arns_are_matched_whole_and_in_ascii(task_arn):
    with pytest.raises(UnreadableMessage, match="not an ECS task ARN"):
        spot_event(spot_stop_event(task_arn))


def _is_css_rules(receiver: ast.expr) -> bool:
    # cssselect2's Matcher.match (the CSS rules matching an element, render/svg_css.py) is no
    # pattern's prefix match; its receiver is always named css_rules there.
    return isinstance(receiver, ast.Name) and receiver.id == "css_rules"


def test_no_validator_in_the_package_matches_only_a_prefix():
    """`re.match` and `Pattern.match` check a prefix; a pattern's `$` also passes a final "\\n".

    Validation in this package uses fullmatch. This guards the mechanism, so that a new
    validator cannot bring the trailing-newline hole back.
    """
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "match"
                and not _is_css_rules(node.func.value)
            ):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == []
