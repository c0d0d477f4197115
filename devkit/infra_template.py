"""The CloudFormation template (infra/renderfarm.yaml) as data, for tests that check it or
rebuild parts of it on the moto server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "infra" / "renderfarm.yaml"


def load_template() -> dict[str, Any]:
    template, problems = decode(str(TEMPLATE_PATH))
    assert not problems, problems
    return template


def resolve(value: Any, values: dict[str, Any]) -> Any:
    """`value` with each Ref, Fn::GetAtt and Fn::Sub replaced from `values` ("Cluster",
    "Cluster.Arn", "AWS::Region"); a name missing from `values` raises KeyError."""
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return values[value["Ref"]]
        if set(value) == {"Fn::GetAtt"}:
            return values[".".join(value["Fn::GetAtt"])]
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(values[m[1]]), value["Fn::Sub"])
        return {key: resolve(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, values) for item in value]
    return value


def api_shape(value: Any) -> Any:
    """CloudFormation's property names as the service API spells them (Name -> name)."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: api_shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [api_shape(item) for item in value]
    return value


def interruption_rule_patterns(cluster_arn: str) -> dict[str, dict]:
    """The template's EventBridge rules that feed the interruption queue, for this cluster."""
    return {
        name: resolve(resource["Properties"]["EventPattern"], {"Cluster.Arn": cluster_arn})
        for name, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::Events::Rule"
    }


def spec_queue_notification_prefixes() -> list[str]:
    """The key prefixes whose uploads the template's bucket notifies the spec queue of."""
    notifications = load_template()["Resources"]["Bucket"]["Properties"][
        "NotificationConfiguration"
    ]["QueueConfigurations"]
    return [
        rule["Value"]
        for notification in notifications
        for rule in notification["Filter"]["S3Key"]["Rules"]
        if rule["Name"] == "prefix"
    ]
