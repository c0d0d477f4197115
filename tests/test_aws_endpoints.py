"""AWS endpoints the boto3 way: AWS_ENDPOINT_URL for every client, AWS_ENDPOINT_URL_<SERVICE>
for a service served elsewhere (an emulator of its own, a VPC endpoint), and a deployment
without ECS (only EC2 spot warnings need the cluster)."""

import http.client
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import dagster as dg
import pytest

from devkit import drops
from devkit.aws import CREDENTIALS, provision
from renderfarm_dagster.definitions import build_definitions
from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.partitions import products
from renderfarm_dagster.deployment import resources, storage
from renderfarm_dagster.settings import ConfigurationError


class CountingProxy:
    """An endpoint of its own in front of the moto server, which records the AWS service each
    request it forwards was signed for (moto servers in one process share their state, so only
    the requests tell which endpoint a client used)."""

    def __init__(self, target: str):
        self.services: list[str] = []
        proxy = self

        class Forward(BaseHTTPRequestHandler):
            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                scope = re.search(
                    r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", self.headers.get("Authorization", "")
                )
                proxy.services.append(scope.group(1) if scope else "?")
                upstream = http.client.HTTPConnection(urlsplit(target).netloc, timeout=60)
                upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
                answer = upstream.getresponse()
                payload = answer.read()
                self.send_response(answer.status)
                # A HEAD answer's length is the object's, not the (empty) payload's.
                skipped = ("transfer-encoding", "connection")
                if self.command != "HEAD":
                    skipped += ("content-length",)
                    self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.getheaders():
                    if name.lower() not in skipped:
                        self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"


@pytest.fixture
def s3_endpoint(moto_endpoint):
    proxy = CountingProxy(moto_endpoint)
    yield proxy
    proxy.server.shutdown()


def test_s3_at_its_own_endpoint_and_no_ecs(moto_endpoint, s3_endpoint, tmp_path, monkeypatch):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    aws = provision(moto_endpoint, service_endpoints={"s3": s3_endpoint.url}, ecs=False)
    environment = aws.environment()
    assert environment["AWS_ENDPOINT_URL_S3"] == s3_endpoint.url
    assert "RENDERFARM_ECS_CLUSTER" not in environment
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("")
    monkeypatch.setenv("DAGSTER_HOME", str(home))

    with storage() as deployed:
        objects = deployed.objects()
        drops.store_template(objects)
        drops.store_photo(objects, "split-a", 0)
        objects.put("specs/split-a.json", drops.spec("split-a"), "application/json")
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(products.name, ["split-a"])
        result = (
            build_definitions()
            .resolve_job_def("render_catalog")
            .execute_in_process(
                instance=instance,
                tags={tags.PARTITION: "split-a"},
                run_config={"ops": {"render_products": {"config": {"workers": 1}}}},
            )
        )
    assert result.success

    # Every S3 request of the render (and of provisioning) went to S3's endpoint, and only S3
    # requests did: DynamoDB, SQS and SNS were asked at the common one.
    assert set(s3_endpoint.services) == {"s3"}
    assert len(s3_endpoint.services) > 10
    keys = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=aws.bucket)["Contents"]]
    assert "manifests/split-a.json" in keys and any(k.startswith("renders/split-a/") for k in keys)
    with storage() as deployed:
        assert len(deployed.checkpoints().read("split-a")) == 1
    # Without a cluster, an EC2 instance has no tasks (Fargate gives no EC2 warnings).
    assert resources()["cluster"].cluster().tasks_on_instance("i-0123456789abcdef0") == []


def test_the_retired_endpoint_variable_is_refused_not_ignored(aws, monkeypatch):
    monkeypatch.setenv("RENDERFARM_AWS_ENDPOINT_URL", aws.endpoint)
    with pytest.raises(
        ConfigurationError, match=r"RENDERFARM_AWS_ENDPOINT_URL \(use AWS_ENDPOINT_URL"
    ):
        resources()
