"""The bundle as the Databricks CLI deploys it, for the tests that ask who may do what.

What it models, each read in the CLI's own sources (``bundle/config/root.go``,
``libs/dyn/merge``, ``bundle/config/mutator/resourcemutator``):

- included files and a target's ``resources``, ``permissions``… are merged into the
  root: maps key by key, a scalar replaced, a *sequence concatenated*;
- a target's ``variables`` replace the defaults, and ``--var`` replaces both;
- top-level ``permissions`` are added to every resource of a kind that has ACLs, the
  secret scope included (``CAN_MANAGE`` → ``MANAGE``, ``CAN_VIEW`` → ``READ``), unless
  the resource already names that principal;
- the deployer is given ``MANAGE`` on the secret scope (as a user or as a service
  principal, whichever it is);
- development mode prefixes jobs and dashboards with ``[dev <short name>] `` and the
  schema with ``dev_<short name>_``, pauses the triggers, schedules and continuous runs
  that set no pause status, and renames no secret scope;
- ``${…}`` references are resolved, variables first, resources after the renames.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
MERGED_FROM_TARGET = ("bundle", "workspace", "artifacts", "resources", "sync", "permissions")
# Bundle-level permission levels as each resource kind of ours spells them.
LEVELS = {
    "jobs": {"CAN_MANAGE": "CAN_MANAGE", "CAN_VIEW": "CAN_VIEW", "CAN_RUN": "CAN_MANAGE_RUN"},
    "dashboards": {"CAN_MANAGE": "CAN_MANAGE", "CAN_VIEW": "CAN_READ"},
    "secret_scopes": {"CAN_MANAGE": "MANAGE", "CAN_VIEW": "READ"},
}
PRINCIPAL_FIELDS = ("user_name", "group_name", "service_principal_name")
REFERENCE = re.compile(r"\$\{([A-Za-z0-9_.\-]+)\}")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Deployer:
    user_name: str  # a service principal's is its application id
    display_name: str = ""

    @property
    def is_service_principal(self) -> bool:
        return bool(UUID.match(self.user_name))

    @property
    def short_name(self) -> str:
        name = self.display_name if self.is_service_principal else self.user_name
        local = name.split("@")[0].lower()
        return re.sub(r"_+", "_", re.sub(r"[^\w]", "_", local)).strip("_")

    def acl(self, level: str) -> dict[str, str]:
        kind = "service_principal_name" if self.is_service_principal else "user_name"
        return {kind: self.user_name, "level": level}


def merge(a: Any, b: Any) -> Any:
    """The CLI's merge: maps by key, sequences concatenated, scalars replaced."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = merge(a[key], value) if key in a else value
        return out
    if isinstance(a, list) and isinstance(b, list):
        return a + b
    return b


def principal(acl: dict[str, str]) -> str:
    return next(acl[f] for f in PRINCIPAL_FIELDS if acl.get(f))


def loaded() -> dict[str, Any]:
    """databricks.yml with its included files merged in."""
    root = yaml.safe_load((REPO / "databricks.yml").read_text())
    for pattern in root.get("include", []):
        for path in sorted(REPO.glob(pattern)):
            root = merge(root, yaml.safe_load(path.read_text()))
    return root


def deployed(target: str, deployer: Deployer, **var: str) -> dict[str, Any]:
    """The resources ``databricks bundle deploy -t <target> --var k=v…`` makes."""
    root = loaded()
    chosen = root["targets"][target]
    for name in MERGED_FROM_TARGET:
        if name in chosen:
            root[name] = merge(root.get(name, {}), chosen[name])
    values = {name: spec.get("default") for name, spec in root["variables"].items()}
    for name, value in chosen.get("variables", {}).items():
        values[name] = value["default"] if isinstance(value, dict) else value
    unknown = set(var) - set(values)
    assert not unknown, f"not a variable of the bundle: {unknown}"
    values.update(var)
    workspace = {
        "workspace.current_user.userName": deployer.user_name,
        "workspace.current_user.short_name": deployer.short_name,
        "bundle.target": target,
        "bundle.name": root["bundle"]["name"],
    }
    for _ in range(len(values)):  # a variable may name another
        lookup = {**workspace, **{f"var.{name}": value for name, value in values.items()}}
        values = {name: resolve(value, lookup, keep_unknown=True) for name, value in values.items()}
    lookup = {**workspace, **{f"var.{name}": value for name, value in values.items()}}
    resolve(values, lookup)  # none left unresolved
    resources = resolve(copy.deepcopy(root["resources"]), lookup, keep_unknown=True)

    for kind, levels in LEVELS.items():
        for body in resources.get(kind, {}).values():
            acls = body.setdefault("permissions", [])
            named = {principal(acl) for acl in acls}
            for top in resolve(root.get("permissions", []), lookup):
                if top["level"] in levels and principal(top) not in named:
                    acls.append({**top, "level": levels[top["level"]]})
    for scope in resources.get("secret_scopes", {}).values():
        if deployer.user_name not in {principal(acl) for acl in scope["permissions"]}:
            scope["permissions"].append(deployer.acl("MANAGE"))

    if chosen.get("mode") == "development":
        prefix = f"[dev {deployer.short_name}] "
        for job in resources.get("jobs", {}).values():
            job["name"] = prefix + job["name"]
            for part in ("trigger", "schedule", "continuous"):
                if part in job:
                    job[part].setdefault("pause_status", "PAUSED")
        for dashboard in resources.get("dashboards", {}).values():
            dashboard["display_name"] = prefix + dashboard["display_name"]
        for schema in resources.get("schemas", {}).values():
            schema["name"] = f"dev_{deployer.short_name}_" + schema["name"]

    flat = {
        f"resources.{kind}.{name}.{field}": value
        for kind, items in resources.items()
        for name, body in items.items()
        for field, value in body.items()
        if isinstance(value, str)
    }
    return resolve(resources, {**lookup, **flat})


def resolve(value: Any, lookup: dict[str, Any], keep_unknown: bool = False) -> Any:
    """``value`` with every ``${name}`` of ``lookup`` replaced, until none is left."""
    if isinstance(value, dict):
        return {k: resolve(v, lookup, keep_unknown) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, lookup, keep_unknown) for v in value]
    if not isinstance(value, str):
        return value
    whole = REFERENCE.fullmatch(value)
    if whole and not isinstance(lookup.get(whole.group(1), ""), str):  # a complex variable
        return resolve(copy.deepcopy(lookup[whole.group(1)]), lookup, keep_unknown)
    while True:
        new = REFERENCE.sub(lambda m: str(lookup.get(m.group(1), m.group(0))), value)
        if new == value:
            break
        value = new
    left = REFERENCE.findall(value)
    assert keep_unknown or not left, f"unresolved: {left}"
    return value


def active_streams_jobs(resources: dict[str, Any]) -> set[str]:
    """The jobs that would run the streams on their own: an unpaused trigger or
    continuous run."""
    return {
        key
        for key, job in resources["jobs"].items()
        if any(
            job.get(part, {}).get("pause_status", "UNPAUSED") == "UNPAUSED"
            for part in ("trigger", "continuous")
            if part in job
        )
    }
