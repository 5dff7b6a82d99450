"""The AWS deployment in terraform/: it parses, and it keeps the facts production depends on.

No cloud access and no credentials. python-hcl2 parses every ``terraform/**/*.tf`` file and the
checks read the parsed blocks, resolving ``var.x`` to the variable's default. The web launcher
(the Python snippet that lets the ALB's health check reach /healthz) is run for real against a
stand-in for the ECS task metadata endpoint on 127.0.0.1. When the terraform binary and a local
copy of the AWS provider are at hand (``TF_PLUGIN_DIR``, default /opt/tf-plugins), ``terraform
validate`` and ``terraform test`` (mocked provider, terraform/tests/) run too; otherwise that one
test is skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import hcl2
import pytest

TERRAFORM_DIR = Path(__file__).resolve().parent.parent / "terraform"
TF_FILES = sorted(TERRAFORM_DIR.rglob("*.tf"))
# Every text file of the deployment (HCL, examples, tests, docs), for the credential scan.
TEXT_FILES = sorted(
    p for p in TERRAFORM_DIR.rglob("*") if p.is_file() and ".terraform" not in p.parts
)

Block = dict[str, Any]


# --- Parsing helpers ----------------------------------------------------------------------------


def _unquote(value: Any) -> Any:
    """python-hcl2 >= 8 keeps the quotes of string literals and labels; drop them everywhere."""
    if isinstance(value, str):
        if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
            return value[1:-1]
        return value
    if isinstance(value, list):
        return [_unquote(item) for item in value]
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if k != "__is_block__"}
    return value


def _parse(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        parsed = hcl2.load(handle)
    assert isinstance(parsed, dict), path
    return dict(_unquote(parsed))


def _config() -> dict[str, dict[tuple[str, ...], Block]]:
    """All blocks of the root module: {"resource": {(type, name): body}, "variable": ...}."""
    config: dict[str, dict[tuple[str, ...], Block]] = {
        "resource": {},
        "data": {},
        "variable": {},
        "output": {},
    }
    for path in TERRAFORM_DIR.glob("*.tf"):
        parsed = _parse(path)
        for kind in ("resource", "data"):
            for entry in parsed.get(kind, []):
                for type_, named in entry.items():
                    for name, body in named.items():
                        config[kind][(type_, name)] = body
        for kind in ("variable", "output"):
            for entry in parsed.get(kind, []):
                for name, body in entry.items():
                    config[kind][(name,)] = body
    return config


CONFIG = _config()


def resource(type_: str, name: str) -> Block:
    body = CONFIG["resource"].get((type_, name))
    assert body is not None, f"terraform/ has no resource {type_}.{name}"
    return body


def resources(type_: str) -> dict[str, Block]:
    return {name: body for (t, name), body in CONFIG["resource"].items() if t == type_}


def block(body: Block, name: str) -> Block:
    """The single nested block `name` of a resource (hcl2 gives blocks as lists)."""
    blocks = body.get(name)
    assert isinstance(blocks, list), f"no {name} block"
    assert len(blocks) == 1, f"expected one {name} block, got {len(blocks)}"
    inner = blocks[0]
    assert isinstance(inner, dict)
    return inner


def resolve(value: Any) -> Any:
    """A value, with a bare `${var.x}` replaced by x's default (and an error if it has none)."""
    if isinstance(value, str):
        match = re.fullmatch(r"\$\{var\.(\w+)\}", value)
        if match:
            variable = CONFIG["variable"].get((match.group(1),))
            assert variable is not None, f"undeclared variable {match.group(1)}"
            assert "default" in variable, f"variable {match.group(1)} has no default"
            return variable["default"]
    return value


def _comments(body: Block) -> list[str]:
    return [str(comment.get("value", "")) for comment in body.get("__comments__", [])]


# --- Every file parses --------------------------------------------------------------------------


def test_the_deployment_is_split_by_concern_and_every_file_parses() -> None:
    names = {path.name for path in TF_FILES}
    expected = {
        "versions.tf",
        "variables.tf",
        "network.tf",
        "database.tf",
        "redis.tf",
        "storage.tf",
        "secrets.tf",
        "ecs.tf",
        "alb.tf",
        "dns.tf",
        "monitoring.tf",
        "outputs.tf",
    }
    assert expected <= names
    for path in TF_FILES:
        assert _parse(path), f"{path} parsed to nothing"
    for example in ("terraform.tfvars.example", "backend.tf.example"):
        assert _parse(TERRAFORM_DIR / example)


def test_only_the_aws_provider_and_no_active_backend() -> None:
    versions = _parse(TERRAFORM_DIR / "versions.tf")
    terraform = versions["terraform"][0]
    providers = terraform["required_providers"][0]
    assert set(providers) == {"aws"}
    assert providers["aws"]["source"] == "hashicorp/aws"
    for path in TF_FILES:
        for entry in _parse(path).get("terraform", []):
            assert "backend" not in entry, f"{path.name} activates a backend"
    example = _parse(TERRAFORM_DIR / "backend.tf.example")["terraform"][0]["backend"][0]
    s3 = example["s3"]
    assert s3["encrypt"] is True


# --- Credentials and account ids ----------------------------------------------------------------


CREDENTIAL_PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(r"(?i)aws_secret_access_key|secret_access_key\s*="),
    # A quoted literal; "${...}" is an expression (e.g. a secret's name), not a value.
    "literal secret_key": re.compile(r"(?i)\bsecret_key\s*=\s*\"(?!\$\{)"),
    "literal password": re.compile(r"(?i)\b(password|auth_token)\s*=\s*\"[^\"$]"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
}


def test_no_credentials_anywhere_in_the_deployment() -> None:
    assert TEXT_FILES
    for path in TEXT_FILES:
        text = path.read_text(encoding="utf-8")
        for what, pattern in CREDENTIAL_PATTERNS.items():
            match = pattern.search(text)
            assert match is None, f"{what} in {path.relative_to(TERRAFORM_DIR)}: {match}"


def test_the_provider_takes_no_credentials_from_the_configuration() -> None:
    for path in TF_FILES:
        for provider in _parse(path).get("provider", []):
            for name, settings in provider.items():
                given = {"access_key", "secret_key", "token", "profile", "shared_credentials_files"}
                assert not given & set(settings), f"{path.name}: provider {name} takes credentials"


def test_the_credential_scan_would_catch_a_leak() -> None:
    leaks = [
        'access_key = "AKIAABCDEFGHIJKLMNOP"',
        'secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
        'password = "hunter2hunter2"',
    ]
    for leak in leaks:
        assert any(p.search(leak) for p in CREDENTIAL_PATTERNS.values()), leak


def test_no_hard_coded_account_ids_in_the_configuration() -> None:
    for path in TF_FILES:
        if "tests" in path.relative_to(TERRAFORM_DIR).parts:
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?<![\w{])\d{12}(?![\w}])", text), f"account id in {path.name}"
        assert "arn:aws:" not in text, f"{path.name}: build ARNs with the partition data source"


# --- Database -----------------------------------------------------------------------------------


def test_rds_is_multi_az_encrypted_protected_and_backed_up() -> None:
    db = resource("aws_db_instance", "main")
    assert db["engine"] == "postgres"
    assert str(resolve(db["engine_version"])).split(".")[0] == "16"
    assert db["multi_az"] is True
    assert db["storage_encrypted"] is True
    assert db["kms_key_id"].startswith("${aws_kms_key.")
    assert int(resolve(db["backup_retention_period"])) >= 7
    assert db["deletion_protection"] is True
    assert db["skip_final_snapshot"] is False
    assert db["publicly_accessible"] is False
    assert db["iam_database_authentication_enabled"] is True
    assert db["performance_insights_enabled"] is True
    assert int(db["monitoring_interval"]) > 0
    assert db["monitoring_role_arn"]
    assert db["auto_minor_version_upgrade"] is True
    assert db["copy_tags_to_snapshot"] is True
    assert db["enabled_cloudwatch_logs_exports"]
    assert db["password"].startswith("${terraform_data.")  # generated, never a literal


def test_postgres_parameter_group_forces_tls_and_logs() -> None:
    group = resource("aws_db_parameter_group", "postgres")
    assert group["family"] == "postgres16"
    parameters = {p["name"]: resolve(p["value"]) for p in group["parameter"]}
    assert parameters["rds.force_ssl"] == "1"
    assert parameters["log_statement"] in {"ddl", "mod", "all"}
    assert "log_min_duration_statement" in parameters
    assert resource("aws_db_instance", "main")["parameter_group_name"] == (
        "${aws_db_parameter_group.postgres.name}"
    )


def test_backup_retention_variable_refuses_less_than_a_week() -> None:
    variable = CONFIG["variable"][("db_backup_retention_days",)]
    assert int(variable["default"]) >= 7
    conditions = " ".join(v["condition"] for v in variable["validation"])
    assert ">= 7" in conditions


# --- Redis --------------------------------------------------------------------------------------


def test_redis_is_encrypted_authenticated_and_fails_over() -> None:
    redis = resource("aws_elasticache_replication_group", "main")
    assert redis["engine"] == "redis"
    assert redis["at_rest_encryption_enabled"] is True
    assert redis["kms_key_id"].startswith("${aws_kms_key.")
    assert redis["transit_encryption_enabled"] is True
    assert redis["auth_token"].startswith("${terraform_data.")
    assert redis["automatic_failover_enabled"] is True
    assert redis["multi_az_enabled"] is True
    assert int(resolve(redis["num_cache_clusters"])) >= 2
    assert int(resolve(redis["snapshot_retention_limit"])) >= 1


# --- Secrets ------------------------------------------------------------------------------------


def test_secrets_are_kms_encrypted_and_hold_the_connection_urls() -> None:
    secrets = resources("aws_secretsmanager_secret")
    assert {"secret_key", "database", "redis"} <= set(secrets)
    for name, secret in secrets.items():
        assert secret["kms_key_id"].startswith("${aws_kms_key."), name
    database = resource("aws_secretsmanager_secret_version", "database")["secret_string"]
    assert "postgres://" in database
    redis = resource("aws_secretsmanager_secret_version", "redis")["secret_string"]
    assert "rediss://" in redis
    assert "ssl_cert_reqs=required" in redis


def test_containers_get_credentials_only_through_secrets() -> None:
    ecs = _parse(TERRAFORM_DIR / "ecs.tf")
    local_values: dict[str, Any] = {}
    for entry in ecs["locals"]:
        local_values.update(entry)
    environment = str(local_values["app_environment"])
    secrets = str(local_values["app_secrets"])
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_HOST_PASSWORD"):
        assert name not in environment, f"{name} is a plain environment value"
        assert name in secrets, f"{name} does not come from Secrets Manager"
    for name in ("RELATA_ENV", "BASE_DOMAIN", "CONN_MAX_AGE", "SCHEMA_POOL_SIZE", "S3_BUCKET"):
        assert name in environment, f"{name} is not set"
    assert re.search(r'RELATA_ENV\s*=\s*"production"', environment)
    definition = resource("aws_ecs_task_definition", "app")["container_definitions"]
    assert "secrets = local.app_secrets" in re.sub(r"\s+", " ", definition)


# --- Files bucket -------------------------------------------------------------------------------


def test_every_bucket_blocks_public_access_and_requires_tls() -> None:
    buckets = resources("aws_s3_bucket")
    assert {"files", "logs"} <= set(buckets)
    blocks = {b["bucket"]: b for b in resources("aws_s3_bucket_public_access_block").values()}
    policies = {
        name: CONFIG["data"][("aws_iam_policy_document", f"{name}_bucket")] for name in buckets
    }
    for name in buckets:
        access = blocks.get(f"${{aws_s3_bucket.{name}.id}}")
        assert access is not None, f"bucket {name} has no public access block"
        for setting in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        ):
            assert access[setting] is True, f"{name}: {setting}"
        deny_plain_http = [
            s
            for s in policies[name]["statement"]
            if s.get("effect") == "Deny"
            and any(c["variable"] == "aws:SecureTransport" for c in s.get("condition", []))
        ]
        assert deny_plain_http, f"bucket {name} accepts plain HTTP"
        versioning = resource("aws_s3_bucket_versioning", name)
        assert block(versioning, "versioning_configuration")["status"] == "Enabled"


def test_files_bucket_is_kms_encrypted_logged_and_expires_old_versions() -> None:
    encryption = resource("aws_s3_bucket_server_side_encryption_configuration", "files")
    default = block(block(encryption, "rule"), "apply_server_side_encryption_by_default")
    assert default["sse_algorithm"] == "aws:kms"
    assert default["kms_master_key_id"].startswith("${aws_kms_key.")
    logging = resource("aws_s3_bucket_logging", "files")
    assert logging["target_bucket"] == "${aws_s3_bucket.logs.id}"
    lifecycle = block(resource("aws_s3_bucket_lifecycle_configuration", "files"), "rule")
    assert lifecycle["status"] == "Enabled"
    assert "noncurrent_version_expiration" in lifecycle


def test_the_task_role_reaches_only_the_files_bucket() -> None:
    policy = CONFIG["data"][("aws_iam_policy_document", "task_files")]
    for statement in policy["statement"]:
        for arn in statement["resources"]:
            assert arn.startswith(("${aws_s3_bucket.files.arn}", "${aws_kms_key.data.arn}")), arn
        assert not any(a in {"s3:*", "*"} for a in statement["actions"])
    attached = [
        p["role"] for p in resources("aws_iam_role_policy").values() if "task." in p["role"]
    ]
    assert attached  # the task role has its policies inline, and no managed policy:
    assert not any(
        "aws_iam_role.task." in a["role"]
        for a in resources("aws_iam_role_policy_attachment").values()
    )


# --- ECS ----------------------------------------------------------------------------------------


def test_beat_runs_exactly_once_and_is_never_autoscaled() -> None:
    beat = resource("aws_ecs_service", "beat")
    assert beat["desired_count"] == 1
    assert beat["deployment_maximum_percent"] == 100  # the old beat stops before the new starts
    for name, target in resources("aws_appautoscaling_target").items():
        assert "beat" not in name
        assert "aws_ecs_service.beat" not in target["resource_id"], name
    targets = {t["resource_id"] for t in resources("aws_appautoscaling_target").values()}
    assert any("aws_ecs_service.web.name" in t for t in targets)
    assert any("aws_ecs_service.worker.name" in t for t in targets)


def test_web_scales_on_cpu_and_requests_worker_on_cpu() -> None:
    metrics: dict[str, set[str]] = {}
    for policy in resources("aws_appautoscaling_policy").values():
        service = policy["resource_id"].split(".")[1]  # ${aws_appautoscaling_target.<service>...
        tracking = block(policy, "target_tracking_scaling_policy_configuration")
        metric = block(tracking, "predefined_metric_specification")["predefined_metric_type"]
        metrics.setdefault(service, set()).add(metric)
    assert metrics == {
        "web": {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"},
        "worker": {"ECSServiceAverageCPUUtilization"},
    }


def test_processes_run_the_right_commands_non_root_on_a_read_only_root() -> None:
    text = (TERRAFORM_DIR / "ecs.tf").read_text(encoding="utf-8")
    # The image's own process scripts (infra/bin), the same ones compose and the docs run.
    for script in ("web", "worker", "beat", "release"):
        assert f'"/app/infra/bin/{script}"' in text, script
        assert (TERRAFORM_DIR.parent / "infra" / "bin" / script).is_file(), script
    definition = resource("aws_ecs_task_definition", "app")
    assert definition["requires_compatibilities"] == ["FARGATE"]
    containers = re.sub(r"\s+", " ", definition["container_definitions"])
    assert "readonlyRootFilesystem = !var.enable_execute_command" in containers
    assert resolve("${var.enable_execute_command}") is False
    assert "user = var.container_user" in containers
    assert "privileged = false" in containers
    assert 'logDriver = "awslogs"' in containers
    user = CONFIG["variable"][("container_user",)]
    assert not str(user["default"]).startswith("0")
    dockerfile = (TERRAFORM_DIR.parent / "infra" / "Dockerfile").read_text(encoding="utf-8")
    assert f"USER {user['default']}" in dockerfile  # the task runs as the image's own user
    assert definition["execution_role_arn"] != definition["task_role_arn"]


def test_services_stay_private_and_the_cluster_has_container_insights() -> None:
    for name in ("web", "worker", "beat"):
        service = resource("aws_ecs_service", name)
        network = block(service, "network_configuration")
        assert network["assign_public_ip"] is False, name
        assert network["subnets"] == "${aws_subnet.private[*].id}", name
        assert block(service, "deployment_circuit_breaker")["rollback"] is True, name
    cluster = resource("aws_ecs_cluster", "main")
    assert block(cluster, "setting") == {"name": "containerInsights", "value": "enabled"}


def test_log_groups_are_kms_encrypted_and_expire() -> None:
    groups = resources("aws_cloudwatch_log_group")
    assert {"app", "flow_logs", "postgres", "redis"} <= set(groups)
    for name, group in groups.items():
        assert group["kms_key_id"].startswith("${aws_kms_key."), name
        assert int(resolve(group["retention_in_days"])) > 0, name


# --- Network and load balancer ------------------------------------------------------------------


def test_security_groups_are_least_privilege() -> None:
    ingress = resources("aws_vpc_security_group_ingress_rule")
    from_anywhere = {n for n, r in ingress.items() if "cidr_ipv4" in r or "cidr_ipv6" in r}
    assert from_anywhere == {"alb_https", "alb_http"}
    assert {int(ingress[n]["from_port"]) for n in from_anywhere} == {80, 443}
    peers = {
        r["security_group_id"]: r.get("referenced_security_group_id")
        for n, r in ingress.items()
        if n not in from_anywhere
    }
    assert peers == {
        "${aws_security_group.app.id}": "${aws_security_group.alb.id}",
        "${aws_security_group.db.id}": "${aws_security_group.app.id}",
        "${aws_security_group.redis.id}": "${aws_security_group.app.id}",
    }
    for group in resources("aws_security_group").values():
        assert "ingress" not in group
        assert "egress" not in group
    egress = resources("aws_vpc_security_group_egress_rule")
    assert not any(
        r["security_group_id"].startswith("${aws_security_group.db") for r in egress.values()
    )
    assert all(r["ip_protocol"] != "-1" for r in egress.values())


def test_vpc_spans_two_or_more_azs_with_nat_and_flow_logs() -> None:
    assert int(resolve("${var.az_count}")) >= 2
    for tier in ("public", "private", "data"):
        assert resource("aws_subnet", tier)["count"] == "${var.az_count}"
    assert resource("aws_subnet", "public")["map_public_ip_on_launch"] is False
    assert "aws_nat_gateway" in {t for t, _ in CONFIG["resource"]}
    flow = resource("aws_flow_log", "vpc")
    assert flow["traffic_type"] == "ALL"
    assert flow["vpc_id"] == "${aws_vpc.main.id}"


def test_alb_is_hardened_and_redirects_http() -> None:
    alb = resource("aws_lb", "main")
    assert alb["drop_invalid_header_fields"] is True
    assert alb["enable_deletion_protection"] is True
    assert alb["internal"] is False
    assert block(alb, "access_logs")["enabled"] is True
    http = resource("aws_lb_listener", "http")
    redirect = block(block(http, "default_action"), "redirect")
    assert redirect["protocol"] == "HTTPS"
    assert redirect["status_code"] == "HTTP_301"
    https = resource("aws_lb_listener", "https")
    assert https["protocol"] == "HTTPS"
    assert "TLS" in str(resolve(https["ssl_policy"]))
    waf = resource("aws_wafv2_web_acl_association", "alb")
    assert "var.waf_web_acl_arn" in waf["count"]
    health = block(resource("aws_lb_target_group", "web"), "health_check")
    assert health["path"] == "/healthz"
    assert health["matcher"] == "200"


def test_certificate_and_records_cover_the_apex_and_every_company() -> None:
    certificate = resource("aws_acm_certificate", "main")
    assert certificate["domain_name"] == "${var.domain}"
    assert certificate["subject_alternative_names"] == ["*.${var.domain}"]
    assert certificate["validation_method"] == "DNS"
    for name, expected in (("apex", "${var.domain}"), ("wildcard", "*.${var.domain}")):
        record = resource("aws_route53_record", name)
        assert record["name"] == expected
        assert block(record, "alias")["name"] == "${aws_lb.main.dns_name}"


def test_alarms_cover_the_load_balancer_services_database_and_redis() -> None:
    alarms = resources("aws_cloudwatch_metric_alarm")
    metrics = {a["metric_name"] for a in alarms.values()}
    assert {
        "HTTPCode_ELB_5XX_Count",
        "HTTPCode_Target_5XX_Count",
        "TargetResponseTime",
        "CPUUtilization",
        "MemoryUtilization",
        "FreeStorageSpace",
        "DatabaseConnections",
        "DatabaseMemoryUsagePercentage",
    } <= metrics
    for name, alarm in alarms.items():
        assert alarm["alarm_actions"] == "${local.alarm_actions}", name
    topic = resource("aws_sns_topic", "alarms")
    assert topic["kms_master_key_id"].startswith("${aws_kms_key.")


def test_kms_keys_rotate() -> None:
    keys = resources("aws_kms_key")
    assert keys
    for name, key in keys.items():
        assert key["enable_key_rotation"] is True, name


# --- Variables and inline checkov skips ---------------------------------------------------------


def test_variables_are_typed_described_and_validated() -> None:
    for (name,), variable in CONFIG["variable"].items():
        assert variable.get("description"), f"variable {name} has no description"
        assert variable.get("type"), f"variable {name} has no type"
    for name in ("region", "domain", "hosted_zone_id", "image"):
        variable = CONFIG["variable"][(name,)]
        assert "default" not in variable, f"{name} must be set per environment"
        assert variable.get("validation"), f"{name} is not validated"
    assert CONFIG["variable"][("email_host_password",)]["sensitive"] is True


def test_every_checkov_skip_names_a_check_and_a_reason() -> None:
    skips = 0
    for path in TF_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if "checkov:skip" not in line:
                continue
            skips += 1
            match = re.search(r"#checkov:skip=(CKV2?_AWS_\d+):(.+)$", line)
            assert match, f"{path.name}: malformed skip {line.strip()}"
            assert len(match.group(2).split()) >= 6, f"{path.name}: no real reason in {line}"
    assert skips > 0


# --- The web launcher (ALB health checks) -------------------------------------------------------


def _web_launcher() -> str:
    ecs = _parse(TERRAFORM_DIR / "ecs.tf")
    for entry in ecs["locals"]:
        if "web_launcher" in entry:
            heredoc = str(entry["web_launcher"])
            match = re.fullmatch(r"<<-?(\w+)\n(.*)\n\s*\1\s*", heredoc, flags=re.DOTALL)
            assert match, heredoc
            return textwrap.dedent(match.group(2))
    raise AssertionError("ecs.tf has no web_launcher local")


class _Metadata(BaseHTTPRequestHandler):
    body = json.dumps({"Networks": [{"NetworkMode": "awsvpc", "IPv4Addresses": ["10.40.66.7"]}]})

    def do_GET(self) -> None:
        payload = self.body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        return


@pytest.fixture
def metadata_endpoint() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Metadata)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v4/container"
    finally:
        server.shutdown()
        server.server_close()


def _run_launcher(env: dict[str, str]) -> dict[str, str]:
    show = "import json, os; print(json.dumps(dict(os.environ)))"
    result = subprocess.run(
        [sys.executable, "-c", _web_launcher(), sys.executable, "-c", show],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    environment = json.loads(result.stdout)
    assert isinstance(environment, dict)
    return environment


def test_web_launcher_admits_the_task_ip_as_a_public_host(metadata_endpoint: str) -> None:
    base = {"PATH": os.environ.get("PATH", ""), "ALLOWED_HOSTS_EXTRA": "ops.example.com"}
    env = _run_launcher({**base, "ECS_CONTAINER_METADATA_URI_V4": metadata_endpoint})
    assert env["ALLOWED_HOSTS_EXTRA"] == "ops.example.com,10.40.66.7"
    assert env["PUBLIC_HOSTS_EXTRA"] == "10.40.66.7"
    # Outside ECS (no metadata endpoint) it changes nothing and still execs the command.
    env = _run_launcher(base)
    assert env["ALLOWED_HOSTS_EXTRA"] == "ops.example.com"
    assert "PUBLIC_HOSTS_EXTRA" not in env


# --- terraform validate / terraform test (when terraform is installed) --------------------------


def _terraform_setup() -> tuple[str, Path] | None:
    binary = shutil.which("terraform")
    plugins = Path(os.environ.get("TF_PLUGIN_DIR", "/opt/tf-plugins"))
    provider = plugins / "registry.terraform.io" / "hashicorp" / "aws"
    if binary is None or not provider.is_dir():
        return None
    return binary, plugins


def test_terraform_validate_and_mocked_plan(tmp_path: Path) -> None:
    setup = _terraform_setup()
    if setup is None:
        pytest.skip("terraform or a local AWS provider (TF_PLUGIN_DIR) is not installed")
    binary, plugins = setup
    work = tmp_path / "terraform"
    shutil.copytree(TERRAFORM_DIR, work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    env = {
        **os.environ,
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
        "TF_DATA_DIR": str(tmp_path / "tf-data"),
    }

    def terraform(*args: str) -> str:
        result = subprocess.run(
            [binary, *args, "-no-color"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, f"terraform {args[0]}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    terraform("init", "-backend=false", "-input=false", f"-plugin-dir={plugins}")
    terraform("fmt", "-check", "-recursive")
    assert "The configuration is valid" in terraform("validate")
    assert re.search(r"Success! \d+ passed, 0 failed", terraform("test"))
