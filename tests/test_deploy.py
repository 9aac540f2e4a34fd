"""The deployment files agree with the code they deploy.

The image (Dockerfile) installs exactly the lock and serves the module workspace.yaml names; the
Helm values (deploy/helm/values.yaml) run that image as the code location, launch each run as a
Kubernetes Job, take every secret from Kubernetes Secrets, and carry over the instance settings
of `.dagster_home/dagster.yaml`. The files are read, not built or installed: building the image
and checking the values against the chart's own schema (`helm template`) are described in
docs/deploy.md and deploy/helm/README.md.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import dagster as dg
import pytest
import yaml

from assets.settings import DEFAULT_KEY_VARIABLE
from scripts.backfill import PLANNED_EVENTS_VARIABLE
from scripts.instance import URL_VARIABLE as STORAGE_URL_VARIABLE
from warehouse.location import URL_VARIABLE as WAREHOUSE_URL_VARIABLE

ROOT = Path(__file__).resolve().parents[1]
VALUES_PATH = ROOT / "deploy" / "helm" / "values.yaml"


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        keyword, _, arguments = (current + stripped).partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
        current = ""
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def option_value(argv: list[str], *names: str) -> str:
    """The value after the first of `names` in an argument list."""
    for i, arg in enumerate(argv[:-1]):
        if arg in names:
            return argv[i + 1]
    raise AssertionError(f"none of {names} in {argv}")


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Whether Docker leaves `path` (relative to the build context) out: the last pattern that
    matches the path or one of its parent folders decides, `!` patterns include again."""

    def regex(pattern: str) -> re.Pattern[str]:
        parts = re.split(r"(\*\*/|\*\*|\*|\?)", pattern.strip("/"))
        wildcards = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
        return re.compile("".join(wildcards.get(p, re.escape(p)) for p in parts))

    pieces = path.split("/")
    candidates = ["/".join(pieces[: n + 1]) for n in range(len(pieces))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        matcher = regex(pattern.removeprefix("!"))
        if any(matcher.fullmatch(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def scalars(node: object) -> list[str]:
    """Every scalar value in a parsed YAML document, as text."""
    if isinstance(node, dict):
        return [text for value in node.values() for text in scalars(value)]
    if isinstance(node, list):
        return [text for value in node for text in scalars(value)]
    return [] if node is None else [str(node)]


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def chart_instance_config(values: dict) -> dict:
    """The dagster.yaml the chart writes for these values, for the settings they use: the run
    coordinator and `concurrency` as the chart's instance templates render them (unset and empty
    values left out), run monitoring and telemetry. Storage is left to the caller."""
    daemon = values["dagsterDaemon"]
    queued = (daemon["runCoordinator"].get("config") or {}).get("queuedRunCoordinator") or {}
    coordinator = {"module": "dagster._core.run_coordinator", "class": "QueuedRunCoordinator"}
    if settings := {snake(k): v for k, v in queued.items() if v not in (None, [])}:
        coordinator["config"] = settings
    config = {
        "run_coordinator": coordinator,
        "run_monitoring": {"enabled": daemon["runMonitoring"]["enabled"]},
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
    }
    concurrency = values.get("concurrency") or {}
    if concurrency.get("enabled"):
        sections = {
            section: {snake(k): v for k, v in (concurrency.get(section) or {}).items()}
            for section in ("pools", "runs")
        }
        rendered = {
            section: {k: v for k, v in settings.items() if v not in (None, [])}
            for section, settings in sections.items()
        }
        config["concurrency"] = {section: s for section, s in rendered.items() if s}
    return config


def open_instance(home: Path, config: dict) -> dg.DagsterInstance:
    """A Dagster instance on `config` (SQLite storage in `home`): Dagster validates it here."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return dg.DagsterInstance.from_config(str(home))


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return dockerfile_instructions((ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load(VALUES_PATH.read_text())


@pytest.fixture(scope="module")
def workspace_location() -> dict:
    (entry,) = yaml.safe_load((ROOT / "workspace.yaml").read_text())["load_from"]
    return entry["python_module"]


@pytest.fixture(scope="module")
def deployment(values) -> dict:
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    return deployment


@pytest.fixture(scope="module")
def local_instance() -> dict:
    return yaml.safe_load((ROOT / ".dagster_home" / "dagster.yaml").read_text())


def locked_version(package: str) -> str:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    (version,) = [p["version"] for p in lock["package"] if p["name"] == package]
    return version


def test_dockerfile_parser_joins_continuations_and_drops_comments():
    text = '# a comment\nFROM python:3.11-slim AS build\nRUN a \\\n    && b\n\nCMD ["x"]\n'
    assert dockerfile_instructions(text) == [
        ("FROM", "python:3.11-slim AS build"),
        ("RUN", "a && b"),
        ("CMD", '["x"]'),
    ]


def test_dockerignore_matcher_follows_docker_rules():
    patterns = ["warehouse/*.duckdb", "**/__pycache__", ".venv", "!.venv/keep"]
    assert dockerignore_excludes(patterns, "warehouse/openai_usage.duckdb")
    assert not dockerignore_excludes(patterns, "warehouse/paths.py")
    assert dockerignore_excludes(patterns, "assets/__pycache__/dbt.cpython-311.pyc")
    assert dockerignore_excludes(patterns, ".venv/bin/python")
    assert not dockerignore_excludes(patterns, ".venv/keep")


def test_image_installs_the_lock_frozen_without_dev_dependencies(dockerfile):
    runs = [(i, arguments) for i, (keyword, arguments) in enumerate(dockerfile) if keyword == "RUN"]
    syncs = [(i, arguments) for i, arguments in runs if "uv sync" in arguments]
    assert syncs, "the image installs its dependencies with `uv sync`"
    for i, arguments in syncs:
        assert "--frozen" in arguments.split() and "--no-dev" in arguments.split(), arguments
        copied_before = [a for keyword, a in dockerfile[:i] if keyword == "COPY"]
        assert any("uv.lock" in a.split() for a in copied_before), "uv.lock is copied first"
    # Anything installed besides the lock is held to the lock's versions.
    for _, arguments in runs:
        if "uv pip install" in arguments:
            assert "--constraint" in arguments, arguments
            assert "uv export" in arguments and "--frozen" in arguments, arguments
    assert not any("uv lock" in arguments for _, arguments in runs), "the lock is never rewritten"


def test_image_python_is_the_projects(dockerfile):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    minimum = re.fullmatch(r">=\s*(\d+\.\d+)", project["requires-python"]).group(1)
    bases = [arguments for keyword, arguments in dockerfile if keyword in ("ARG", "FROM")]
    images = re.findall(r"python:(\d+\.\d+)[\w.-]*", " ".join(bases))
    assert images and set(images) == {minimum}, images


def test_image_serves_the_workspace_module(dockerfile, workspace_location):
    stage = final_stage(dockerfile)
    (cmd,) = [arguments for keyword, arguments in stage if keyword == "CMD"]
    argv = json.loads(cmd)  # exec form: dagster itself receives SIGTERM
    assert argv[:3] == ["dagster", "api", "grpc"]
    assert option_value(argv, "--module-name", "-m") == workspace_location["module_name"]
    # workspace.yaml loads the module from the repository root: in the image, where it is copied.
    workdir = [arguments for keyword, arguments in stage if keyword == "WORKDIR"][-1]
    build_workdirs = [a for keyword, a in dockerfile if keyword == "WORKDIR"]
    assert workspace_location["working_directory"] == "."
    assert option_value(argv, "--working-directory", "-d") == workdir == build_workdirs[0]
    exposed = [arguments for keyword, arguments in stage if keyword == "EXPOSE"]
    assert exposed == [option_value(argv, "--port", "-p")]


def test_image_runs_as_a_user_that_is_not_root(dockerfile):
    users = [arguments for keyword, arguments in final_stage(dockerfile) if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_image_carries_a_parsed_dbt_manifest(dockerfile):
    copy_all = next(i for i, (k, a) in enumerate(dockerfile) if k == "COPY" and a == ". .")
    parse = [i for i, (k, a) in enumerate(dockerfile) if k == "RUN" and "-m assets.dbt" in a]
    assert parse and parse[0] > copy_all


def test_build_context_leaves_local_state_out_and_the_code_in():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for local in (
        ".git/HEAD",
        ".venv/bin/python",
        ".dagster_home/dagster.yaml",
        ".dagster_home/postgres/dagster.yaml",
        "warehouse/openai_usage.duckdb",
        "warehouse/serving/report.html",
        "warehouse/.dlt/openai_usage/state.json",
        "dbt_models/target/manifest.json",
        ".pytest_cache/README.md",
        "assets/__pycache__/dbt.cpython-311.pyc",
    ):
        assert dockerignore_excludes(patterns, local), local
    for needed in (
        "pyproject.toml",
        "uv.lock",
        "workspace.yaml",
        "assets/definitions.py",
        "warehouse/paths.py",
        "dbt_models/dbt_project.yml",
        "dbt_models/profiles.yml",
        "pipelines/openai_admin/settings.py",
    ):
        assert (ROOT / needed).exists(), needed
        assert not dockerignore_excludes(patterns, needed), needed


def test_code_location_runs_the_image_on_the_workspace_module(
    deployment, dockerfile, workspace_location
):
    stage = final_stage(dockerfile)
    grpc_args = deployment["dagsterApiGrpcArgs"]
    assert option_value(grpc_args, "--module-name", "-m") == workspace_location["module_name"]
    workdir = [arguments for keyword, arguments in stage if keyword == "WORKDIR"][-1]
    assert option_value(grpc_args, "--working-directory", "-d") == workdir
    assert [str(deployment["port"])] == [a for k, a in stage if k == "EXPOSE"]
    assert deployment["image"]["repository"] and deployment["image"]["pullPolicy"]
    # Run pods get the deployment's Secrets and environment.
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}


def test_runs_are_kubernetes_jobs(values):
    launcher = values["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    assert launcher["config"]["k8sRunLauncher"]["loadInclusterConfig"] is True


def test_secrets_come_only_from_kubernetes_secrets(values, deployment):
    secrets = {DEFAULT_KEY_VARIABLE, WAREHOUSE_URL_VARIABLE, STORAGE_URL_VARIABLE}
    assert [s["name"] for s in deployment["envSecrets"]], "the admin key comes from a Secret"
    env_maps = [deployment.get("env") or {}]
    env_maps += [
        values[section].get("env") or {} for section in ("dagsterWebserver", "dagsterDaemon")
    ]
    for env in env_maps:
        assert not secrets & set(env), env
    # Dagster's own Postgres password: read from the chart's Secret, never written here.
    assert values["generatePostgresqlPasswordSecret"] is False
    assert "postgresqlPassword" not in values["postgresql"]
    assert values["global"]["postgresqlSecretName"]
    for text in scalars(values):
        assert not re.search(r"\bsk-[A-Za-z0-9_-]{8,}", text), text
        assert not re.search(r"[a-z][a-z0-9+.-]*://[^\s/@:]+:[^\s/@]+@", text), text


def test_dagster_storage_is_an_external_postgres(values):
    assert values["postgresql"]["enabled"] is False
    assert values["postgresql"]["postgresqlHost"]


def test_the_instance_limits_one_run_per_warehouse_and_one_writer_at_a_time(
    values, local_instance, tmp_path
):
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["enabled"] is True and coordinator["type"] == "QueuedRunCoordinator"
    instance = open_instance(tmp_path / "k8s", chart_instance_config(values))
    try:
        limits = instance.get_concurrency_config()
    finally:
        instance.dispose()
    laptop_pools = local_instance["concurrency"]["pools"]
    assert limits.pool_config.default_pool_limit == laptop_pools["default_limit"]
    laptop_runs = local_instance["concurrency"]["runs"]["tag_concurrency_limits"]
    assert limits.run_queue_config.tag_concurrency_limits == laptop_runs
    assert [limit["limit"] for limit in laptop_runs] == [1]


def test_dagster_refuses_run_coordinator_tag_limits_beside_pools(values, tmp_path):
    """Why the run limits sit under `concurrency.runs` in the values, not under the run
    coordinator: with pools configured, Dagster will not start with the latter."""
    moved = json.loads(json.dumps(values))
    limits = moved["concurrency"].pop("runs")["tagConcurrencyLimits"]
    moved["dagsterDaemon"]["runCoordinator"]["config"] = {
        "queuedRunCoordinator": {"tagConcurrencyLimits": limits}
    }
    with pytest.raises(dg.DagsterInvalidConfigError, match="tag_concurrency_limits"):
        open_instance(tmp_path / "moved", chart_instance_config(moved))


def test_instance_settings_are_the_local_ones(values, local_instance):
    assert values["telemetry"]["enabled"] == local_instance["telemetry"]["enabled"]
    assert (
        values["dagsterDaemon"]["runMonitoring"]["enabled"]
        == local_instance["run_monitoring"]["enabled"]
    )


def test_backfills_record_one_planned_event_per_asset_where_runs_are_created(values):
    for section in ("dagsterWebserver", "dagsterDaemon"):
        assert values[section]["env"][PLANNED_EVENTS_VARIABLE] == "1", section


def test_chart_version_is_the_locked_dagster():
    dagster = locked_version("dagster")
    for doc in (ROOT / "deploy" / "helm" / "README.md", ROOT / "docs" / "deploy.md"):
        versions = re.findall(r"--version[ =]([0-9][\w.+-]*)", doc.read_text())
        assert versions and set(versions) == {dagster}, (doc.name, versions)
