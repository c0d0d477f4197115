"""The production launch path, end to end but for the container itself.

A Dagster instance built from deploy/dagster.yaml (PostgreSQL storage on a real server, the
queued run coordinator, SpotAwareEcsRunLauncher), with the environment the CloudFormation
template gives the daemon, and every AWS call going to the moto server. Runs submitted as the UI
submits them are dequeued by the daemon's coordinator loop and launched with ECS RunTask: on
FARGATE_SPOT, in the daemon's network, with the run task definition of the template and the
tags the interruption sensor relies on.
"""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.launcher.base import WorkerStatus
from dagster._core.test_utils import create_run_for_test
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
    QueuedRunCoordinatorDaemon,
)

from devkit.aws import REGION
from devkit.infra_template import api_shape, load_template, resolve
from devkit.postgres import create_database
from renderfarm_dagster.defs import tags
from renderfarm_dagster.ecs import CLUSTER_TAG, RUN_TASK_KWARGS_TAG, TASK_ARN_TAG
from renderfarm_dagster.launcher import SpotAwareEcsRunLauncher

ROOT = Path(__file__).resolve().parents[2]
STACK = "renderfarm-test"
ACCOUNT = "123456789012"
MAX_CONCURRENT_RUNS = 2


@pytest.fixture
def ecs_metadata_endpoint(monkeypatch):
    """Fargate's task metadata endpoint, as EcsRunLauncher reads it from inside the daemon."""
    served: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(served).encode() if self.path == "/task" else b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("ECS_CONTAINER_METADATA_URI_V4", f"http://127.0.0.1:{server.server_port}")
    yield served
    server.shutdown()


@pytest.fixture(params=["ARM64", "X86_64"])
def production(request, aws, postgres, ecs_metadata_endpoint, monkeypatch, tmp_path):
    """The stack's daemon: its task running in moto, its environment, its Dagster instance, for
    each value of the stack's CpuArchitecture."""
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    # As in any VPC with private DNS for ECS (moto also needs it to describe task interfaces).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(
        GroupName=f"tasks-{aws.cluster}", Description="Dagster tasks", VpcId=vpc
    )["GroupId"]

    template = load_template()["Resources"]
    values = {
        "AWS::StackName": STACK,
        "AWS::Region": REGION,
        "AWS::Partition": "aws",
        "AWS::AccountId": ACCOUNT,
        "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/renderfarm:test",
        "CpuArchitecture": request.param,
        "RunCpu": "2048",
        "RunMemory": "4096",
        "RunEphemeralStorageGiB": 21,
        "MaxConcurrentRenderRuns": str(MAX_CONCURRENT_RUNS),
        "ExecutionRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/{STACK}-execution",
        "RunTaskRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/{STACK}-run",
        "DaemonTaskRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/{STACK}-daemon",
        "RunLogGroup": f"/renderfarm/{STACK}/runs",
        "DaemonLogGroup": f"/renderfarm/{STACK}/daemon",
        "Database.Endpoint.Address": postgres.host,
        "Database.Endpoint.Port": str(postgres.port),
        "Database.MasterUserSecret.SecretArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:db",
        "Bucket": aws.bucket,
        "Key.Arn": aws.kms_key_id,
        "CheckpointTable": aws.table,
        "SpecQueue": aws.spec_queue_url,
        "InterruptionQueue": aws.spot_queue_url,
        "CompletionTopic": aws.completion_topic_arn,
        "FailureTopic": aws.failure_topic_arn,
        "Cluster": aws.cluster,
        "LoadBalancer.DNSName": "internal-ui.example",
    }
    ecs = aws.client("ecs")
    for name in ("RunTaskDefinition", "DaemonTaskDefinition"):
        definition = api_shape(resolve(template[name]["Properties"], values))
        # moto cannot place a task whose containers name no memory (Fargate needs only the
        # task's); a soft reservation satisfies it without changing what the task may use.
        for container in definition["containerDefinitions"]:
            container["memoryReservation"] = 512
        ecs.register_task_definition(**definition)

    # The daemon service's task: launchType FARGATE in the stack's subnets and security group.
    daemon = ecs.run_task(
        cluster=aws.cluster,
        taskDefinition=f"{STACK}-daemon",
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": [subnet],
                "securityGroups": [group],
                "assignPublicIp": "DISABLED",
            }
        },
    )["tasks"][0]
    ecs_metadata_endpoint.update(Cluster=aws.cluster_arn, TaskARN=daemon["taskArn"])

    (daemon_container,) = template["DaemonTaskDefinition"]["Properties"]["ContainerDefinitions"]
    for variable in resolve(daemon_container["Environment"], values):
        monkeypatch.setenv(variable["Name"], variable["Value"])
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", postgres.password)  # from Secrets Manager on ECS
    # A database of its own: the runs of another architecture's launch would count against
    # the run queue's limit.
    database = f"launch_path_{request.param.lower()}"
    create_database(postgres, database)
    monkeypatch.setenv("DAGSTER_PG_DB", database)
    # dagster-aws builds its own boto3 clients: boto3's global endpoint override reaches them.
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint)

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        yield instance, {"subnet": subnet, "security_group": group}, request.param


def submit(instance, request_context, remote_job, partition: str, extra_tags=None):
    run = create_run_for_test(
        instance,
        job_name=remote_job.name,
        remote_job_origin=remote_job.get_remote_origin(),
        job_code_origin=remote_job.get_python_origin(),
        tags={tags.PARTITION: partition, **(extra_tags or {})},
    )
    instance.submit_run(run.run_id, request_context)
    return run.run_id


def test_runs_launch_on_fargate_spot_through_the_production_instance(aws, production):
    instance, network, architecture = production
    assert type(instance.run_launcher) is SpotAwareEcsRunLauncher
    assert instance.get_ref().storage_data.class_name == "PooledPostgresStorage"

    target = ModuleTarget(
        module_name="renderfarm_dagster.definitions",
        attribute=None,
        working_directory=str(ROOT),
        location_name="renderfarm",
    )
    with WorkspaceProcessContext(instance, target) as workspace:
        request_context = workspace.create_request_context()
        location = request_context.get_code_location("renderfarm")
        (repository,) = location.get_repositories().values()
        remote_job = repository.get_full_job("render_catalog")

        escalated = json.dumps(
            {"capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}]}
        )
        run_ids = [
            submit(instance, request_context, remote_job, "shoe"),
            submit(
                instance,
                request_context,
                remote_job,
                "boot",
                {RUN_TASK_KWARGS_TAG: escalated, "ecs/cpu": "4096", "ecs/memory": "8192"},
            ),
            submit(instance, request_context, remote_job, "sandal"),
        ]
        assert {instance.get_run_by_id(r).status for r in run_ids} == {dg.DagsterRunStatus.QUEUED}

        list(QueuedRunCoordinatorDaemon(interval_seconds=1).run_iteration(workspace))

    runs = [instance.get_run_by_id(run_id) for run_id in run_ids]
    # The concurrency limit from the stack's MaxConcurrentRenderRuns: the third run waits.
    assert [run.status for run in runs] == [
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.QUEUED,
    ]

    ecs = aws.client("ecs")
    task_arns = [run.tags[TASK_ARN_TAG] for run in runs[:2]]
    described = {
        t["taskArn"]: t
        for t in ecs.describe_tasks(cluster=aws.cluster, tasks=task_arns, include=["TAGS"])["tasks"]
    }
    spot, on_demand = (described[arn] for arn in task_arns)
    for run, task in zip(runs, (spot, on_demand), strict=False):
        assert run.tags[CLUSTER_TAG] == aws.cluster_arn
        assert task["taskDefinitionArn"].split("/")[-1].startswith(f"{STACK}-run:")
        (container,) = task["overrides"]["containerOverrides"]
        assert container["name"] == "run"
        assert container["command"][:3] == ["dagster", "api", "execute_run"]
        assert run.run_id in container["command"][3]  # the serialized ExecuteRunArgs
        ecs_tags = {tag["key"]: tag["value"] for tag in task["tags"]}
        assert ecs_tags["dagster/run_id"] == run.run_id
        assert ecs_tags[tags.PARTITION] == run.tags[tags.PARTITION]
        # The run inherited the daemon's network (use_current_ecs_task_config).
        details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
        assert details["subnetId"] == network["subnet"]
        interface = aws.client("ec2").describe_network_interfaces(
            NetworkInterfaceIds=[details["networkInterfaceId"]]
        )["NetworkInterfaces"][0]
        assert [g["GroupId"] for g in interface["Groups"]] == [network["security_group"]]

    assert spot["capacityProviderName"] == "FARGATE_SPOT"
    # Both on the stack's architecture: on Spot, and escalated to on-demand (the task
    # definition carries it; escalation replaces only the capacity provider strategy).
    for task in (spot, on_demand):
        definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])
        platform = definition["taskDefinition"]["runtimePlatform"]
        assert platform == {"cpuArchitecture": architecture, "operatingSystemFamily": "LINUX"}
    # The interruption sensor's escalation tag replaces the strategy; the cpu/memory tags size
    # the task for a heavy template.
    assert on_demand["capacityProviderName"] == "FARGATE"
    assert on_demand["overrides"]["cpu"] == "4096"
    assert on_demand["overrides"]["memory"] == "8192"
    assert "cpu" not in spot["overrides"]

    # Run monitoring reads a running task as running.
    health = instance.run_launcher.check_run_worker_health(runs[0])
    assert health.status == WorkerStatus.RUNNING
