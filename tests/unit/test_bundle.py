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
        "/Volumes/${var.catalog}/${resources.schemas.omdb.name}/${resources.volumes.landing.name}/"
    )
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
    assert prod["permissions"]


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


# Fields the bundle uses and the CLI version that first knows them (read in the CLI's
# bundle schema); an older CLI drops an unknown field with a warning.
FIELDS_SINCE = {
    ("dashboards", "dataset_catalog"): (0, 281),
    ("dashboards", "dataset_schema"): (0, 281),
}


def test_the_bundle_declares_a_cli_that_knows_every_field_it_uses():
    declared = BUNDLE["bundle"]["databricks_cli_version"]
    assert declared.startswith(">= ")
    minimum = tuple(int(part) for part in declared[3:].split(".")[:2])
    used = {(kind, field) for kind, name, body in all_resources() for field in body}
    assert all(minimum >= since for key, since in FIELDS_SINCE.items() if key in used)
    assert ("dashboards", "dataset_catalog") in used
    docs = (REPO / "docs" / "databricks.md").read_text()
    assert f"CLI ({minimum[0]}.{minimum[1]} or newer" in docs


def prod_resource(kind: str, name: str) -> dict:
    """A resource as prod deploys it: the target's fields over the included ones."""
    override = BUNDLE["targets"]["prod"].get("resources", {}).get(kind, {}).get(name, {})
    return {**RESOURCES[kind][name], **override}


def test_prod_lives_where_only_its_operators_can_change_it():
    prod = BUNDLE["targets"]["prod"]
    assert prod["workspace"]["root_path"].startswith(
        "/Workspace/Users/${workspace.current_user.userName}/"
    )
    levels = {p.get("group_name") or p.get("user_name"): p["level"] for p in prod["permissions"]}
    assert levels["${var.operators_group}"] == "CAN_MANAGE"
    assert levels["${workspace.current_user.userName}"] == "CAN_MANAGE"
    assert levels.get("users", "CAN_VIEW") == "CAN_VIEW"


def grants_of(kind: str, name: str) -> dict[str, set[str]]:
    resource = CLASSES[kind].from_dict(prod_resource(kind, name)).as_dict()
    return {g["principal"]: set(g["privileges"]) for g in resource["grants"]}


def test_prod_grants_readers_gold_and_operators_the_volumes_and_the_key():
    schema = grants_of("schemas", "omdb")
    assert schema["${var.readers_group}"] == {"USE_SCHEMA", "SELECT"}
    assert {"USE_SCHEMA", "SELECT", "MODIFY"} <= schema["${var.operators_group}"]
    for volume in ("landing", "checkpoints"):
        assert grants_of("volumes", volume)["${var.operators_group}"] == {
            "READ_VOLUME",
            "WRITE_VOLUME",
        }
    scope = SecretScope.from_dict(prod_resource("secret_scopes", "omdb")).as_dict()
    assert [(p["group_name"], p["level"]) for p in scope["permissions"]] == [
        ("${var.operators_group}", "MANAGE")
    ]
    # dev keeps to the deployer: a new workspace has no operators group yet.
    assert "resources" not in BUNDLE["targets"]["dev"]
    assert "grants" in RESOURCES["schemas"]["omdb"]  # readers in every target


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
