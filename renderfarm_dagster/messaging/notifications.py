"""The notifications this project publishes, as typed bodies (docs/deployments.md, "Notifications").

Delivery is at least once: SNS standard topics may deliver a message twice, and a run killed
between publishing a product's notification and recording it (SIGKILL) publishes it again on
its retry. Each body carries a `notification_id` that is the same for every copy of the same
announcement, for consumers to drop repeats.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from renderfarm_dagster.messaging import PRODUCT_RENDERED, RENDER_FAILED, Notifier


@dataclass(frozen=True)
class Notification:
    kind: ClassVar[str]

    def send(self, notifier: Notifier) -> None:
        notifier.publish(self.kind, self.body())

    def body(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ProductRendered(Notification):
    """A product's manifest is written and its checks passed."""

    kind: ClassVar[str] = PRODUCT_RENDERED
    notification_id: str
    product_id: str
    run_id: str
    manifest_key: str
    variants: int
    outputs: int
    bytes: int
    run_url: str


@dataclass(frozen=True)
class ProductFailed(Notification):
    """One product of a run could not be published: `problems` says where and why (a key, a
    JSON path or a check -> the reason); `reason` is the same in one line."""

    kind: ClassVar[str] = RENDER_FAILED
    notification_id: str
    product_id: str
    run_id: str
    stage: str
    reason: str
    problems: dict[str, str] = field(default_factory=dict)
    run_url: str = ""


@dataclass(frozen=True)
class RunFailed(Notification):
    """A render run failed for a reason of its own (not one product's): the partitions it
    covered, as its tags name them (`product_id`, or `first_product_id` and
    `last_product_id`)."""

    kind: ClassVar[str] = RENDER_FAILED
    products: dict[str, str]
    run_id: str
    reason: str
    run_url: str

    def body(self) -> dict[str, Any]:
        return {
            "notification_id": notification_id(self.run_id, "run failed"),
            **self.products,
            "run_id": self.run_id,
            "reason": self.reason,
            "run_url": self.run_url,
        }


def notification_id(*parts: str) -> str:
    """The same id for the same announcement, whichever attempt sends it."""
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:32]
