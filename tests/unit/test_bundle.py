"""The Databricks Asset Bundle: every resource builds with databricks-bundles' classes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import tomllib
import yaml
from databricks.bundles.dashboards import Dashboard
from databricks.bundles.jobs import Job
from databricks.bundles.schemas import Schema
from databricks.bundles.secret_scopes import SecretScope
from databricks.bundles.volumes import Volume

from streaming.cli import build_parser
from streaming.runtime.session import SPARK_FLOOR
from tests.bundle_cli import Deployer, active_streams_jobs, deployed, loaded, principal

REPO = Path(__file__).resolve().parents[2]
BUNDLE = yaml.safe_load((REPO / "databricks.yml").read_text())
RESOURCE_FILES = sorted(path for pattern in BUNDLE["include"] for path in REPO.glob(pattern))
RESOURCES: dict[str, dict] = {}
for _path in RESOURCE_FILES:
    for kind, items in yaml.safe_load(_path.read_text())["resources"].items():
        RESOURCES.setdefault(kind, {}).update(items)
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
CLASSES = {
    "jobs": Job,
    "schemas": Schema,
    "volumes": Volume,
    "dashboards": Dashboard,
    "secret_scopes": SecretScope,
}


def all_resources():
    return [(kind, name, body) for kind, items in RESOURCES.items() for name, body in items.items()]


def test_the_bundle_declares_what_it_deploys():
    assert set(RESOURCES) == set(CLASSES)
    assert set(RESOURCES["jobs"]) == {
        "omdb_producer",
        "omdb_streams",
        "omdb_streams_continuous",
        "omdb_streams_classic",
    }
    assert set(RESOURCES["volumes"]) == {"landing", "checkpoints"}
    assert set(RESOURCES["secret_scopes"]) == {"omdb"}


@pytest.mark.parametrize(("kind", "name", "body"), all_resources())
def test_every_resource_builds_with_the_bundle_classes(kind, name, body):
    # from_dict rejects unknown fields at every depth.
    resource = CLASSES[kind].from_dict(body)
    assert resource.as_dict() == CLASSES[kind].from_dict(resource.as_dict()).as_dict()


def test_unknown_fields_would_be_rejected():
    job = dict(RESOURCES["jobs"]["omdb_streams"], schedul={"typo": True})
    with pytest.raises(ValueError, match="Unexpected field"):
        Job.from_dict(job)


def wheel_tasks():
    return [
        (name, task)
        for name, job in RESOURCES["jobs"].items()
        for task in job["tasks"]
        if "python_wheel_task" in task
    ]


@pytest.mark.parametrize(("job", "task"), wheel_tasks())
def test_wheel_tasks_call_a_real_entry_point_with_valid_arguments(job, task):
    wheel = task["python_wheel_task"]
    # The task drops the entry point's return value: it must be the one that raises.
    assert PYPROJECT["project"]["scripts"][wheel["entry_point"]] == "streaming.cli:job_main"
    assert wheel["package_name"] == PYPROJECT["project"]["name"].replace("-", "_")
    # The parameters must parse with the real command line (variables as sample values).
    sample = {"bundle.target": "dev", "var.max_requests": "500", "var.classic_interval": "10s"}
    argv = [
        re.sub(r"\$\{([^}]+)\}", lambda m: sample.get(m.group(1), "omdb"), p)
        for p in wheel["parameters"]
    ]
    args = build_parser().parse_args(argv)
    assert args.target == "dev" and args.catalog and args.schema


def test_the_streams_job_runs_available_now_on_file_arrival():
    job = Job.from_dict(RESOURCES["jobs"]["omdb_streams"])
    assert job.trigger.file_arrival.url == (
        "/Volumes/${var.catalog}/${resources.schemas.omdb.name}/${resources.volumes.landing.name}"
        "/omdb/search/"
    )
    trigger = RESOURCES["jobs"]["omdb_streams"]["trigger"]
    assert trigger["pause_status"] == "${var.file_arrival_trigger}"
    (task,) = job.tasks
    assert task.python_wheel_task.parameters[:3] == ["run", "--trigger", "available-now"]


def test_each_always_on_job_fits_its_compute():
    # Serverless runs streams available-now only: its always-on job re-runs a catch-up;
    # only a classic job cluster may hold a processing-time trigger.
    serverless = Job.from_dict(RESOURCES["jobs"]["omdb_streams_continuous"])
    classic = Job.from_dict(RESOURCES["jobs"]["omdb_streams_classic"])
    # Each always-on job is paused or running by its own variable, never by default.
    assert RESOURCES["jobs"]["omdb_streams_continuous"]["continuous"] == {
        "pause_status": "${var.serverless_always_on}"
    }
    assert RESOURCES["jobs"]["omdb_streams_classic"]["continuous"] == {
        "pause_status": "${var.classic_always_on}"
    }
    assert serverless.continuous.pause_status and classic.continuous.pause_status
    assert serverless.tasks[0].python_wheel_task.parameters[:3] == [
        "run",
        "--trigger",
        "available-now",
    ]
    assert classic.tasks[0].python_wheel_task.parameters[:3] == ["run", "--trigger", "continuous"]
    assert classic.tasks[0].job_cluster_key == classic.job_clusters[0].job_cluster_key
    for name, job in RESOURCES["jobs"].items():
        for task in job["tasks"]:
            on_serverless = "environment_key" in task
            asks_interval = "continuous" in task["python_wheel_task"]["parameters"]
            assert not (on_serverless and asks_interval), f"{name}: serverless cannot"


def test_the_schema_is_named_through_its_resource_everywhere():
    # Development mode renames the schema (dev_<user>_...): ${var.schema} anywhere but
    # in the schema's own name would point at a schema that does not exist.
    texts = {path.name: path.read_text() for path in [REPO / "databricks.yml", *RESOURCE_FILES]}
    uses = {name: text.count("${var.schema}") for name, text in texts.items()}
    assert uses == {name: 1 if name == "omdb_storage.yml" else 0 for name in texts}
    assert RESOURCES["schemas"]["omdb"]["name"] == "${var.schema}"
    for name in ("landing_volume", "checkpoint_volume"):
        assert sum(text.count(f"${{var.{name}}}") for text in texts.values()) == 1


def test_the_warehouse_is_looked_up_and_the_wheel_version_moves():
    assert BUNDLE["variables"]["warehouse_id"]["lookup"]["warehouse"]
    assert BUNDLE["artifacts"]["omdb_wheel"]["dynamic_version"] is True


def test_every_variable_used_is_declared_with_a_description():
    declared = BUNDLE["variables"]
    assert all(v.get("description") for v in declared.values())
    assert all("default" in v or "lookup" in v for v in declared.values())
    texts = [(REPO / "databricks.yml").read_text(), *(p.read_text() for p in RESOURCE_FILES)]
    used = {m for text in texts for m in re.findall(r"\$\{var\.([A-Za-z0-9_]+)\}", text)}
    assert used and used <= set(declared)


def test_targets_dev_and_prod():
    dev, prod = BUNDLE["targets"]["dev"], BUNDLE["targets"]["prod"]
    assert dev["mode"] == "development" and dev["default"] is True
    assert "schema" not in dev.get("variables", {})  # development mode prefixes it
    assert prod["mode"] == "production" and prod["workspace"]["root_path"]


def test_the_dashboard_reads_gold_and_has_both_charts_and_a_counter():
    (body,) = RESOURCES["dashboards"].values()
    path = REPO / "resources" / body["file_path"]
    dashboard = json.loads(path.read_text())
    queries = ["".join(d["queryLines"]) for d in dashboard["datasets"]]
    assert queries and all("omdb_releases_gold" in q for q in queries)
    widgets = {
        item["widget"]["spec"]["widgetType"]: item["widget"]
        for page in dashboard["pages"]
        for item in page["layout"]
    }
    assert set(widgets) == {"bar", "line", "counter"}
    assert widgets["bar"]["spec"]["encodings"]["color"]["fieldName"] == "media_type"
    assert widgets["line"]["spec"]["encodings"]["color"]["fieldName"] == "media_type"
    datasets = {d["name"] for d in dashboard["datasets"]}
    for widget in widgets.values():
        (query,) = widget["queries"]
        assert query["query"]["datasetName"] in datasets


ADA = Deployer("ada.lovelace@example.com")
GRACE = Deployer("grace.hopper@example.com")
ROBOT = Deployer("6e0f3c1a-1b2c-4d5e-8f90-123456789abc", "omdb deployer")  # a service principal
OPERATORS = "omdb-operators"


# The fields the CLI's bundle schema knows at the declared floor (v0.281.0's
# bundle/schema/jsonschema.json) for the kinds databricks-bundles 0.281.0 has no class
# of; jobs, schemas and volumes are built with that release's classes in the floor's
# environment (tests/integration/test_spark_floor.py). An older CLI drops an unknown
# field with a warning: dataset_catalog and dataset_schema arrive in 0.281.
KNOWN_AT_FLOOR = {
    "dashboards": {
        "create_time", "dashboard_id", "dataset_catalog", "dataset_schema", "display_name",
        "embed_credentials", "etag", "file_path", "lifecycle", "lifecycle_state",
        "parent_path", "path", "permissions", "serialized_dashboard", "update_time",
        "warehouse_id",
    },
    "secret_scopes": {"backend_type", "keyvault_metadata", "lifecycle", "name", "permissions"},
}  # fmt: skip
FLOOR_CLI = "0.281.0"


def test_the_bundle_declares_a_cli_that_knows_every_field_it_uses():
    assert BUNDLE["bundle"]["databricks_cli_version"] == f">= {FLOOR_CLI}"
    for target, who in (("dev", ADA), ("prod", ROBOT)):
        for kind, known in KNOWN_AT_FLOOR.items():
            for name, body in deployed(target, who)[kind].items():
                assert set(body) <= known, (target, kind, name, set(body) - known)
    docs = (REPO / "docs" / "databricks.md").read_text()
    assert "CLI (0.281 or newer" in docs
    floor = [p for p in PYPROJECT["project"]["optional-dependencies"]["spark-floor"]]
    assert f"databricks-bundles=={FLOOR_CLI}" in floor


@pytest.mark.parametrize("target", ["dev", "prod"])
@pytest.mark.parametrize("deployer", [ADA, ROBOT], ids=["user", "service-principal"])
def test_no_one_but_the_deployer_and_the_operators_can_read_the_key(target, deployer):
    # Top-level permissions reach the secret scope too; a scope ACL has no level below
    # READ, so any principal on it beyond these could read the OMDb key.
    scope = deployed(target, deployer)["secret_scopes"]["omdb"]
    readers = {principal(acl): acl["level"] for acl in scope["permissions"]}
    allowed = {deployer.user_name} | ({OPERATORS} if target == "prod" else set())
    assert set(readers) == allowed
    assert SecretScope.from_dict(scope).as_dict()["permissions"]


def test_each_developer_deploys_a_scope_of_their_own_named_like_their_schema():
    scopes = {who: deployed("dev", who)["secret_scopes"]["omdb"]["name"] for who in (ADA, GRACE)}
    assert scopes[ADA] != scopes[GRACE]
    assert scopes[ADA] == deployed("dev", ADA)["schemas"]["omdb"]["name"] == "dev_ada_lovelace_omdb"
    assert deployed("prod", ROBOT)["secret_scopes"]["omdb"]["name"] == "omdb"
    # The producer reads the key from the scope the deploy made, under its final name.
    (task,) = deployed("dev", ADA)["jobs"]["omdb_producer"]["tasks"]
    parameters = task["python_wheel_task"]["parameters"]
    assert parameters[parameters.index("--secret-scope") + 1] == scopes[ADA]
    docs = (REPO / "docs" / "databricks.md").read_text()
    assert "put-secret dev_<you>_omdb omdb_api_key" in docs


@pytest.mark.parametrize("deployer", [ADA, ROBOT], ids=["user", "service-principal"])
def test_prod_deploys_as_a_user_or_a_service_principal(deployer):
    # A service principal's userName is its application id: named as user_name, the
    # permissions API would refuse the deploy. The CLI makes the deployer owner itself.
    root = loaded()
    assert not any(
        "${workspace.current_user" in str(acl) for acl in root["targets"]["prod"]["permissions"]
    )
    resources = deployed("prod", deployer)
    for items in resources.values():
        for body in items.values():
            for acl in body.get("permissions", []):
                assert (
                    acl.get("user_name") != deployer.user_name or not deployer.is_service_principal
                )
    prod = root["targets"]["prod"]
    assert prod["workspace"]["root_path"].startswith(
        "/Workspace/Users/${workspace.current_user.userName}/"
    )
    assert [(p["group_name"], p["level"]) for p in prod["permissions"]] == [
        ("${var.operators_group}", "CAN_MANAGE")
    ]


def test_prod_grants_its_readers_once_and_a_dev_schema_grants_no_one():
    # A target's grants are concatenated to the included ones, not put in their place.
    prod = deployed("prod", ROBOT)
    schema = Schema.from_dict(prod["schemas"]["omdb"]).as_dict()
    principals = [g["principal"] for g in schema["grants"]]
    assert sorted(principals) == sorted(["account users", OPERATORS])
    grants = {g["principal"]: set(g["privileges"]) for g in schema["grants"]}
    assert grants["account users"] == {"USE_SCHEMA", "SELECT"}
    assert {"USE_SCHEMA", "SELECT", "MODIFY"} <= grants[OPERATORS]
    for volume in ("landing", "checkpoints"):
        (grant,) = Volume.from_dict(prod["volumes"][volume]).as_dict()["grants"]
        assert grant["principal"] == OPERATORS
        assert set(grant["privileges"]) == {"READ_VOLUME", "WRITE_VOLUME"}
    dev = deployed("dev", ADA)
    assert not dev["schemas"]["omdb"].get("grants")
    assert not any(v.get("grants") for v in dev["volumes"].values())


def test_prod_shows_its_jobs_and_dashboard_to_every_user():
    prod = deployed("prod", ROBOT)
    for name, job in prod["jobs"].items():
        assert {"group_name": "users", "level": "CAN_VIEW"} in job["permissions"], name
    assert {"group_name": "users", "level": "CAN_READ"} in prod["dashboards"]["omdb_gold"][
        "permissions"
    ]


@pytest.mark.parametrize(
    ("target", "var", "active"),
    [
        ("prod", {}, {"omdb_streams"}),
        ("dev", {}, set()),
        (
            "prod",
            {"serverless_always_on": "UNPAUSED", "file_arrival_trigger": "PAUSED"},
            {"omdb_streams_continuous"},
        ),
        (
            "prod",
            {"classic_always_on": "UNPAUSED", "file_arrival_trigger": "PAUSED"},
            {"omdb_streams_classic"},
        ),
        ("dev", {"file_arrival_trigger": "UNPAUSED"}, {"omdb_streams"}),
    ],
)
def test_one_job_at_most_runs_the_streams_as_the_docs_say(target, var, active):
    # The three jobs share checkpoints. Every switch the docs give is a --var.
    assert active_streams_jobs(deployed(target, ADA, **var)) == active
    docs = (REPO / "docs" / "databricks.md").read_text()
    assert all(f"--var {name}={value}" in docs for name, value in var.items())


def test_the_trigger_watches_the_landing_folder_not_the_archive():
    from checkpoints_config import load_target

    config = load_target("prod", catalog="main", schema="omdb")
    (job,) = [deployed("prod", ROBOT)["jobs"]["omdb_streams"]]
    url = job["trigger"]["file_arrival"]["url"]
    assert url.rstrip("/") == config.landing_path
    assert not config.archive_path.startswith(url)


def test_the_producer_reads_the_key_from_the_bundles_own_scope():
    (task,) = RESOURCES["jobs"]["omdb_producer"]["tasks"]
    parameters = task["python_wheel_task"]["parameters"]
    scope = parameters[parameters.index("--secret-scope") + 1]
    assert scope == "${resources.secret_scopes.omdb.name}"
    assert RESOURCES["secret_scopes"]["omdb"]["name"] == "${var.secret_scope}"


def test_the_dashboard_shows_gold_to_its_viewers_with_the_publishers_credentials():
    (body,) = RESOURCES["dashboards"].values()
    assert Dashboard.from_dict(body).embed_credentials is True
    assert '"stack"' not in (REPO / "resources" / body["file_path"]).read_text()


def test_every_job_runs_one_at_a_time():
    # Development mode gives a job max_concurrent_runs 4 unless set; two runs of one
    # chain would share its checkpoints.
    for name, job in RESOURCES["jobs"].items():
        assert Job.from_dict(job).max_concurrent_runs == 1, name


def test_the_deployed_code_runs_on_the_declared_spark_floor():
    # Serverless environment 4 is Databricks Connect 17 (Spark 4.0); 17.3 LTS is Spark 4.0.
    environment_spark = {"4": "4.0"}
    for name, job in RESOURCES["jobs"].items():
        for environment in job.get("environments", []):
            version = environment["spec"]["environment_version"]
            assert environment_spark.get(version) == SPARK_FLOOR, name
    runtime = BUNDLE["variables"]["classic_spark_version"]["default"]
    assert runtime.startswith("17.3.") and SPARK_FLOOR == "4.0"


def test_the_classic_job_runs_on_one_node_unless_given_workers():
    (cluster,) = deployed("prod", ROBOT)["jobs"]["omdb_streams_classic"]["job_clusters"]
    one_node = cluster["new_cluster"]
    assert one_node["num_workers"] == 0 and one_node["spark_version"] == "17.3.x-scala2.13"
    assert one_node["spark_conf"]["spark.master"].startswith("local[")
    # A multi-node spec, as docs/cluster.md gives it: workers, and no local master.
    workers = {
        "spark_version": "17.3.x-scala2.13",
        "node_type_id": "i3.xlarge",
        "autoscale": {"min_workers": 1, "max_workers": 4},
        "data_security_mode": "SINGLE_USER",
    }
    docs = (REPO / "docs" / "cluster.md").read_text()
    assert '"autoscale": {"min_workers": 1, "max_workers": 4}' in docs
    job = deployed("prod", ROBOT, classic_cluster=workers)["jobs"]["omdb_streams_classic"]
    built = Job.from_dict(job)
    assert built.job_clusters[0].new_cluster.autoscale.max_workers == 4
    assert "spark_conf" not in job["job_clusters"][0]["new_cluster"]
