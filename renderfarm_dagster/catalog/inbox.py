"""The spec inbox: specs arrive under specs/; valid ones become products, invalid ones rejected."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.rejections import set_aside
from renderfarm_dagster.catalog.templates import TemplateNotFoundError, load_template
from renderfarm_dagster.catalog.threads import in_order
from renderfarm_dagster.render.errors import TemplateError
from renderfarm_dagster.render.layouts import TemplateSet
from renderfarm_dagster.spec import (
    ParsedSpec,
    SpecError,
    SpecProblem,
    parse_spec,
    template_problems,
)
from renderfarm_dagster.storage import ObjectNotFoundError, ObjectStore


@dataclass(frozen=True)
class AcceptedSpec:
    key: str
    parsed: ParsedSpec

    @property
    def product_id(self) -> str:
        return self.parsed.spec.product_id


@dataclass(frozen=True)
class RejectedSpec:
    key: str
    error: SpecError
    rejected_key: str
    report_key: str


@dataclass(frozen=True)
class WaitingSpec:
    """A valid spec whose uploaded template is not (validly) there yet: it stays in the inbox
    and is read again when the template arrives. A bad template upload must not cost the
    specs that use it."""

    key: str
    parsed: ParsedSpec
    reason: str

    @property
    def product_id(self) -> str:
        return self.parsed.spec.product_id

    @property
    def template_key(self) -> str:
        return keys.template_key(self.parsed.spec.template)


def read_inbox_spec(
    objects: ObjectStore, key: str
) -> AcceptedSpec | RejectedSpec | WaitingSpec | None:
    """Validate the spec at `key`; None if it vanished since it was listed."""
    try:
        data = objects.get(key)
    except ObjectNotFoundError:
        return None
    try:
        parsed = parse_spec(data, key)
    except SpecError as error:
        return _rejection(key, error)
    try:
        template = load_template(objects, parsed.spec.template).layouts
    except (TemplateNotFoundError, TemplateError) as error:
        reason = str(error).splitlines()[0]
        return WaitingSpec(key, parsed, f"waits for its template: {reason}")
    try:
        check_against_template(parsed, key, lambda name: template)
    except SpecError as error:
        return _rejection(key, error)
    product_id = keys.product_id_from_spec_key(key)
    if product_id != parsed.spec.product_id:
        expected = keys.spec_key(parsed.spec.product_id)
        problem = SpecProblem(
            "product_id", f"does not match the spec's key: store it at {expected}"
        )
        return _rejection(key, SpecError(key, [problem]))
    return AcceptedSpec(key=key, parsed=parsed)


def check_against_template(
    parsed: ParsedSpec, source: str, find_template: Callable[[str], TemplateSet]
) -> None:
    """Raise SpecError if the spec's template is missing or invalid, or its layers do not fit.

    A spec is checked against its template when it arrives, so a layer name misspelt in a spec
    of 500 variants is reported at its JSON path instead of failing a run later.
    """
    name = parsed.spec.template
    try:
        template = find_template(name)
    except TemplateNotFoundError as error:
        raise SpecError(source, [SpecProblem("template", f"{error}: upload it first")]) from None
    except TemplateError as error:
        problem = f"template {name!r} is invalid ({error.problems[0]}): fix and upload it again"
        raise SpecError(source, [SpecProblem("template", problem)]) from None
    problems = template_problems(parsed.spec, template.main, tuple(template.layouts))
    if problems:
        raise SpecError(source, problems)


def _rejection(key: str, error: SpecError) -> RejectedSpec:
    return RejectedSpec(
        key=key,
        error=error,
        rejected_key=keys.rejected_key(key),
        report_key=keys.rejected_report_key(key),
    )


def move_to_rejected(objects: ObjectStore, rejected: RejectedSpec) -> None:
    """Move a rejected spec out of the inbox, next to a report of every problem in it (a
    crash midway leaves it in the inbox to be rejected again, never lost)."""
    report = {**rejected.error.to_report(), "rejected_key": rejected.rejected_key}
    set_aside(
        objects,
        rejected.key,
        rejected.rejected_key,
        report,
        "application/json",
        report_key=rejected.report_key,
    )


@dataclass(frozen=True)
class Submission:
    parsed: ParsedSpec
    changed: bool  # False when the inbox already held these exact bytes


def submit_spec(objects: ObjectStore, data: bytes, source: str) -> Submission:
    """Validate a spec file and store it in the inbox at specs/<product_id>.json.

    Identical bytes already in the inbox are left alone, so resubmitting is a no-op.
    """
    parsed = parse_spec(data, source)
    check_against_template(parsed, source, lambda name: load_template(objects, name).layouts)
    key = keys.spec_key(parsed.spec.product_id)
    current = objects.head(key)
    if current is not None and current.sha256 == parsed.sha256:
        return Submission(parsed, changed=False)
    objects.put(key, data, "application/json")
    return Submission(parsed, changed=True)


def load_specs(objects: ObjectStore, product_ids: Sequence[str]) -> list[ParsedSpec]:
    """The current specs of registered products, several read at once (catalog/threads.py),
    in the order of `product_ids`; raises the SpecError of the first that is missing or
    invalid."""
    return list(in_order(lambda product_id: load_spec(objects, product_id), product_ids, "spec"))


def load_spec(objects: ObjectStore, product_id: str) -> ParsedSpec:
    """The current spec of a registered product."""
    key = keys.spec_key(product_id)
    try:
        data = objects.get(key)
    except ObjectNotFoundError:
        raise SpecError(key, [SpecProblem("$", "no spec stored for this product")]) from None
    return parse_spec(data, key)
