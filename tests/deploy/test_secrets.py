"""No secret in the repository, the image's build context or the Dagster configuration."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What a leaked credential looks like: AWS key ids, secret keys assigned a value, private keys.
SECRET_PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(
        r"aws_secret_access_key\s*[:=]\s*['\"]?[A-Za-z0-9/+]{40}", re.IGNORECASE
    ),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
}
# In configuration files, a password is read from the environment, never written down.
CONFIG_PASSWORD = re.compile(r"^\s*password\s*:\s*(?!\{env:)\S", re.IGNORECASE | re.MULTILINE)


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    return [ROOT / name.decode() for name in listed if name]


def test_no_tracked_file_holds_a_credential():
    found = []
    for path in tracked_files():
        if not path.is_file() or path.suffix in {".png", ".jpg", ".webp"}:
            continue
        text = path.read_text(errors="replace")
        patterns = dict(SECRET_PATTERNS)
        if path.suffix in {".yaml", ".yml"}:
            patterns["password written in configuration"] = CONFIG_PASSWORD
        for kind, pattern in patterns.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {kind}")
    assert found == []


def test_the_image_build_context_takes_only_what_the_image_copies():
    # .dockerignore excludes everything, then lets in the project's own files: no .env, no
    # local data, no Dagster home with its run history, no virtual environment.
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules[0] == "*"
    assert all(rule.startswith(("!", "**/__pycache__")) for rule in rules[1:])
    allowed = [rule[1:] for rule in rules[1:] if rule.startswith("!")]
    assert not any(
        name.startswith((".env", ".dagster_home", "renderfarm-data")) for name in allowed
    )


def test_the_image_sets_no_secret_in_its_environment():
    dockerfile = (ROOT / "worker_image" / "Dockerfile").read_text()
    settings = re.findall(r"^(?:ENV|ARG)\s+(.+?)(?<!\\)$", dockerfile, re.MULTILINE | re.DOTALL)
    names = re.findall(r"([A-Z_][A-Z0-9_]*)=", " ".join(settings))
    assert not [n for n in names if re.search("SECRET|PASSWORD|TOKEN|KEY", n)], names


def test_production_configuration_reads_credentials_from_the_environment():
    # The PostgreSQL password comes from an environment variable (an ECS secret from Secrets
    # Manager); the AWS clients use the task role's credentials from boto3's chain.
    dagster_yaml = (ROOT / "deploy" / "dagster.yaml").read_text()
    assert "password: {env: DAGSTER_PG_PASSWORD}" in dagster_yaml
    infra = (ROOT / "infra" / "renderfarm.yaml").read_text()
    for line in infra.splitlines():
        if "DAGSTER_PG_PASSWORD" in line:
            assert "ValueFrom:" in line and "MasterUserSecret" in line, line
