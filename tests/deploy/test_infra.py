"""infra/renderfarm.yaml, read: the properties the deployment relies on and the security bar.

cfn-lint checks the template against CloudFormation's schemas (`make lint`); these tests check
what no schema knows: that the template agrees with the code (table layout, environment
variables, run task definition, stop codes) and that storage, queues and IAM are locked down.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from devkit.infra_template import load_template
from renderfarm_dagster import keys
from renderfarm_dagster.catalog.inputs import INPUT_PREFIXES
from renderfarm_dagster.deployment.aws import AWS_REQUIRED
from renderfarm_dagster.messaging.events import SPOT_STOP_CODES
from renderfarm_dagster.storage import aws as aws_storage

ROOT = Path(__file__).resolve().parents[2]
INSTANCE = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
DAGSTER_TASKS = (
    "CodeServerTaskDefinition",
    "WebserverTaskDefinition",
    "DaemonTaskDefinition",
    "RunTaskDefinition",
)
# Actions IAM cannot scope to a resource (the service authorizes them on "*" only).
UNSCOPABLE_ACTIONS = {"ecs:DescribeTaskDefinition", "ec2:DescribeNetworkInterfaces"}


TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]


def of_type(kind: str) -> dict[str, dict]:
    return {name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == kind}


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def ref(name: str) -> dict:
    return {"Ref": name}


def get_att(name: str, attribute: str) -> dict:
    return {"Fn::GetAtt": [name, attribute]}


def environment_variables(value: Any) -> set[str]:
    """Every `{env: NAME}` in a Dagster YAML document."""
    if isinstance(value, dict):
        if set(value) == {"env"}:
            return {value["env"]}
        return set().union(*(environment_variables(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(environment_variables(v) for v in value))
    return set()


def container(task_definition: str) -> dict:
    (only,) = RESOURCES[task_definition]["Properties"]["ContainerDefinitions"]
    return only


def statements(role: str) -> list[dict]:
    return [
        statement
        for policy in RESOURCES[role]["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


# ---------------------------------------------------------------- agreement with the code


def test_checkpoint_table_is_the_one_the_code_queries():
    table = RESOURCES["CheckpointTable"]["Properties"]
    assert table["KeySchema"] == aws_storage.TABLE_KEY_SCHEMA
    assert table["AttributeDefinitions"] == aws_storage.TABLE_ATTRIBUTES
    assert table["GlobalSecondaryIndexes"] == aws_storage.TABLE_INDEXES
    assert table["TimeToLiveSpecification"] == {
        "AttributeName": aws_storage.TTL_ATTRIBUTE,
        "Enabled": True,
    }
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": ref("Key"),
    }


def test_every_dagster_container_gets_the_same_complete_environment():
    first = container(DAGSTER_TASKS[0])
    for task in DAGSTER_TASKS[1:]:
        assert container(task)["Environment"] == first["Environment"], task
        assert container(task)["Secrets"] == first["Secrets"], task
    environment = {v["Name"]: v["Value"] for v in first["Environment"]}
    secrets = {s["Name"] for s in first["Secrets"]}
    provided = set(environment) | secrets
    workspace = yaml.safe_load((ROOT / "deploy" / "workspace.yaml").read_text())
    needed = set(AWS_REQUIRED) | environment_variables(INSTANCE) | environment_variables(workspace)
    assert needed <= provided, f"not set by the task definitions: {sorted(needed - provided)}"
    # The password only ever comes from Secrets Manager.
    assert secrets == {"DAGSTER_PG_PASSWORD"}
    assert "DAGSTER_PG_PASSWORD" not in environment
    assert environment["PGSSLMODE"] == "require"
    assert (
        environment["RENDERFARM_RUN_TASK_DEFINITION"]
        == (RESOURCES["RunTaskDefinition"]["Properties"]["Family"])
    )
    # Every process that creates runs logs one planned event per asset of a batch run.
    assert environment["DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"] == "true"


def test_every_task_runs_on_the_architecture_the_parameter_names_graviton_by_default():
    parameter = TEMPLATE["Parameters"]["CpuArchitecture"]
    # The cheaper first: ARM64 runs on FARGATE_SPOT per the ECS API reference (docs/deploy.md).
    assert parameter["Default"] == "ARM64"
    assert set(parameter["AllowedValues"]) == {"ARM64", "X86_64"}
    definitions = [n for n, r in RESOURCES.items() if r["Type"] == "AWS::ECS::TaskDefinition"]
    assert len(definitions) == 4
    for name in definitions:
        assert RESOURCES[name]["Properties"]["RuntimePlatform"] == {
            "CpuArchitecture": ref("CpuArchitecture"),
            "OperatingSystemFamily": "LINUX",
        }, name


def test_run_task_definition_gives_the_worker_the_whole_spot_warning():
    run = RESOURCES["RunTaskDefinition"]["Properties"]
    assert run["RequiresCompatibilities"] == ["FARGATE"]
    assert container("RunTaskDefinition")["StopTimeout"] == 120
    assert (
        container("RunTaskDefinition")["Name"]
        == INSTANCE["run_launcher"]["config"]["container_name"]
    )
    assert container("RunTaskDefinition")["LogConfiguration"]["Options"]["awslogs-group"] == ref(
        "RunLogGroup"
    )
    # The image's default command is the code server; only the run launcher sets the command.
    assert "Command" not in container("RunTaskDefinition")


def test_instance_config_puts_runs_on_fargate_spot_without_a_launch_type():
    launcher = INSTANCE["run_launcher"]["config"]
    kwargs = launcher["run_task_kwargs"]
    assert "launchType" not in kwargs
    strategy = {s["capacityProvider"]: s for s in kwargs["capacityProviderStrategy"]}
    assert strategy["FARGATE_SPOT"]["weight"] > 0
    assert strategy["FARGATE"]["weight"] == 0
    cluster = RESOURCES["Cluster"]["Properties"]
    assert set(cluster["CapacityProviders"]) == {"FARGATE", "FARGATE_SPOT"}
    assert INSTANCE["run_launcher"]["class"] == "SpotAwareEcsRunLauncher"
    assert launcher["use_current_ecs_task_config"] is True
    # use_current_ecs_task_config copies the daemon's launchType; dagster-aws reads no strategy.
    assert RESOURCES["DaemonService"]["Properties"]["LaunchType"] == "FARGATE"


def test_instance_config_leaves_retries_to_the_interruption_sensor():
    assert INSTANCE["run_monitoring"]["enabled"] is True
    assert INSTANCE["run_monitoring"]["max_resume_run_attempts"] == 0
    assert INSTANCE["run_retries"]["enabled"] is False
    assert INSTANCE["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert INSTANCE["run_coordinator"]["config"]["max_concurrent_runs"] == {
        "env": "RENDERFARM_MAX_CONCURRENT_RUNS"
    }
    assert TEMPLATE["Parameters"]["MaxConcurrentRenderRuns"]["Default"] == 10


def test_spot_rule_matches_this_cluster_and_the_stop_codes_the_sensor_reads():
    pattern = RESOURCES["FargateSpotInterruptionRule"]["Properties"]["EventPattern"]
    assert pattern["detail"]["clusterArn"] == [get_att("Cluster", "Arn")]
    assert set(pattern["detail"]["stopCode"]) == SPOT_STOP_CODES
    for rule in of_type("AWS::Events::Rule").values():
        assert [t["Arn"] for t in rule["Targets"]] == [get_att("InterruptionQueue", "Arn")]


def test_bucket_notifies_the_spec_queue_of_uploaded_specs_templates_fonts_and_photos():
    notifications = RESOURCES["Bucket"]["Properties"]["NotificationConfiguration"][
        "QueueConfigurations"
    ]
    for notification in notifications:
        assert notification["Queue"] == get_att("SpecQueue", "Arn")
        assert notification["Event"] == "s3:ObjectCreated:*"
    # The prefixes the spec sensor reads, and nothing it writes (no notification loops).
    assert sorted(n["Filter"]["S3Key"]["Rules"][0]["Value"] for n in notifications) == sorted(
        [keys.SPECS_PREFIX, *INPUT_PREFIXES]
    )
    assert keys.FONTS_PREFIX in INPUT_PREFIXES
    assert all(len(n["Filter"]["S3Key"]["Rules"]) == 1 for n in notifications)


# ---------------------------------------------------------------- storage and queues


def test_bucket_is_encrypted_versioned_private_and_tls_only():
    bucket = RESOURCES["Bucket"]["Properties"]
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": get_att("Key", "Arn"),
    }
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    (deny,) = RESOURCES["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_queues_are_encrypted_and_dead_letter_after_five_receives():
    queues = of_type("AWS::SQS::Queue")
    dead_letter_queues = {name for name in queues if name.endswith("DeadLetterQueue")}
    assert dead_letter_queues == {"SpecDeadLetterQueue", "InterruptionDeadLetterQueue"}
    for name, queue in queues.items():
        assert queue["KmsMasterKeyId"] == ref("Key"), name
        if name in dead_letter_queues:
            assert "RedrivePolicy" not in queue
            continue
        assert queue["VisibilityTimeout"] >= 120, name
        assert queue["RedrivePolicy"] == {
            "deadLetterTargetArn": get_att(name.replace("Queue", "DeadLetterQueue"), "Arn"),
            "maxReceiveCount": 5,
        }


@pytest.mark.parametrize(
    ("policy", "service", "sources"),
    [
        (
            "SpecQueuePolicy",
            "s3.amazonaws.com",
            [{"Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}"}],
        ),
        (
            "InterruptionQueuePolicy",
            "events.amazonaws.com",
            [
                get_att("FargateSpotInterruptionRule", "Arn"),
                get_att("Ec2SpotInterruptionRule", "Arn"),
            ],
        ),
    ],
)
def test_only_the_bucket_or_the_rules_may_send_to_a_queue(policy, service, sources):
    document = RESOURCES[policy]["Properties"]["PolicyDocument"]
    allows = [s for s in document["Statement"] if s["Effect"] == "Allow"]
    assert len(allows) == 1
    (allow,) = allows
    assert allow["Principal"] == {"Service": service}
    assert allow["Action"] == "sqs:SendMessage"
    assert as_list(allow["Condition"]["ArnEquals"]["aws:SourceArn"]) == sources
    denies = [s for s in document["Statement"] if s["Effect"] == "Deny"]
    assert [d["Condition"] for d in denies] == [{"Bool": {"aws:SecureTransport": "false"}}]


def test_everything_that_stores_data_is_encrypted_with_the_stack_key():
    for name, topic in of_type("AWS::SNS::Topic").items():
        assert topic["KmsMasterKeyId"] == ref("Key"), name
    for name, group in of_type("AWS::Logs::LogGroup").items():
        assert group["KmsKeyId"] == get_att("Key", "Arn"), name
        assert group["RetentionInDays"] == ref("LogRetentionDays"), name
    database = RESOURCES["Database"]["Properties"]
    assert database["StorageEncrypted"] is True
    assert database["KmsKeyId"] == ref("Key")
    assert database["MultiAZ"] is True
    assert database["PubliclyAccessible"] is False
    assert database["ManageMasterUserPassword"] is True
    assert database["MasterUserSecret"] == {"KmsKeyId": ref("Key")}
    assert "MasterUserPassword" not in database
    assert RESOURCES["Key"]["Properties"]["EnableKeyRotation"] is True


def test_alarms_cover_failed_runs_dead_letters_and_waiting_messages():
    watched = {
        (alarm["MetricName"], json.dumps(alarm["Dimensions"][0]["Value"], sort_keys=True))
        for alarm in of_type("AWS::CloudWatch::Alarm").values()
    }

    def on(metric, value):
        return (metric, json.dumps(value, sort_keys=True))

    assert on("NumberOfMessagesPublished", get_att("FailureTopic", "TopicName")) in watched
    for queue in ("SpecDeadLetterQueue", "InterruptionDeadLetterQueue"):
        assert on("ApproximateNumberOfMessagesVisible", get_att(queue, "QueueName")) in watched
    for queue in ("SpecQueue", "InterruptionQueue"):
        assert on("ApproximateAgeOfOldestMessage", get_att(queue, "QueueName")) in watched


# ---------------------------------------------------------------- IAM


def every_role_statement():
    for name in of_type("AWS::IAM::Role"):
        for statement in statements(name):
            yield name, statement


def test_no_wildcard_actions_and_no_wildcard_resources_where_scoping_exists():
    for role, statement in every_role_statement():
        actions = as_list(statement["Action"])
        for action in actions:
            assert action != "*" and not action.endswith(":*"), (role, action)
        if "*" in as_list(statement["Resource"]):
            assert set(actions) <= UNSCOPABLE_ACTIONS, (role, statement.get("Sid"), actions)
        # Nor "every bucket" or "every resource of the service in the account" spelled as ARNs.
        for resource in as_list(statement["Resource"]):
            text = json.dumps(resource)
            assert not re.search(r":::\*|AccountId\}:\*", text), (role, text)


def test_roles_can_be_assumed_only_by_ecs_tasks_of_this_account():
    for name, role in of_type("AWS::IAM::Role").items():
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}, name
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}


def test_daemon_runs_only_the_run_task_definition_and_passes_only_its_roles():
    by_action = {}
    for statement in statements("DaemonTaskRole"):
        for action in as_list(statement["Action"]):
            by_action.setdefault(action, []).append(statement)
    (run_task,) = by_action["ecs:RunTask"]
    assert run_task["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}"
        ":task-definition/${AWS::StackName}-run:*"
    }
    assert run_task["Condition"] == {"ArnEquals": {"ecs:cluster": get_att("Cluster", "Arn")}}
    (pass_role,) = by_action["iam:PassRole"]
    assert pass_role["Resource"] == [get_att("RunTaskRole", "Arn"), get_att("ExecutionRole", "Arn")]
    assert "ecs:RegisterTaskDefinition" not in by_action
    run_family = RESOURCES["RunTaskDefinition"]["Properties"]["Family"]
    assert run_family == {"Fn::Sub": "${AWS::StackName}-run"}


def test_only_the_sensors_drain_queues_and_nobody_sends_to_them():
    for role, statement in every_role_statement():
        actions = as_list(statement["Action"])
        assert "sqs:SendMessage" not in actions, role
        if any(action.startswith("sqs:") for action in actions):
            assert role == "CodeServerTaskRole"


def test_task_roles_are_split_by_what_each_service_does():
    assert RESOURCES["RunTaskDefinition"]["Properties"]["TaskRoleArn"] == get_att(
        "RunTaskRole", "Arn"
    )
    publishes = {
        role: statement["Resource"]
        for role, statement in every_role_statement()
        if "sns:Publish" in as_list(statement["Action"])
    }
    # A run announces each of its products (product_rendered or render_failed); the code
    # server's failure sensor, runs that failed as a whole.
    assert publishes == {
        "RunTaskRole": [ref("CompletionTopic"), ref("FailureTopic")],
        "CodeServerTaskRole": ref("FailureTopic"),
    }


# ---------------------------------------------------------------- the deploy guide


def test_deploy_guide_names_every_parameter_and_output():
    guide = (ROOT / "docs" / "deploy.md").read_text()
    missing = [
        name for name in [*TEMPLATE["Parameters"], *TEMPLATE["Outputs"]] if f"`{name}`" not in guide
    ]
    assert not missing, f"docs/deploy.md does not mention {missing}"


def test_runs_read_and_list_brand_fonts_and_the_sensors_may_reject_them():
    def allowed(role: str, action: str) -> list:
        found = []
        for name, statement in every_role_statement():
            if name == role and action in as_list(statement["Action"]):
                found += as_list(statement.get("Resource"))
                condition = statement.get("Condition", {}).get("StringLike", {})
                found += condition.get("s3:prefix", [])
        return found

    fonts = {"Fn::Sub": "${Bucket.Arn}/fonts/*"}
    assert fonts in allowed("RunTaskRole", "s3:GetObject")
    assert "fonts/*" in allowed("RunTaskRole", "s3:ListBucket")
    assert fonts not in allowed("RunTaskRole", "s3:DeleteObject")
    for action in ("s3:GetObject", "s3:DeleteObject"):
        assert fonts in allowed("CodeServerTaskRole", action)
    assert "fonts/*" in allowed("CodeServerTaskRole", "s3:ListBucket")


def test_runs_may_list_the_layouts_of_a_template_set():
    prefixes = []
    for name, statement in every_role_statement():
        if name == "RunTaskRole" and "s3:ListBucket" in as_list(statement["Action"]):
            prefixes += statement.get("Condition", {}).get("StringLike", {}).get("s3:prefix", [])
    # load_template lists templates/<name>. for the set's other layouts.
    assert "templates/*" in prefixes
