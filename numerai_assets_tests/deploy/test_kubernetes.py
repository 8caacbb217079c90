"""Kubernetes and Dagster+ configuration, validated where a validator exists here.

No cluster and no Helm here, and the chart's values.schema.json ships with the chart, not with
any PyPI package: dagster_cloud.yaml's container context is validated by dagster-k8s's own
schema, the executors by Dagster's config system (``configured`` validates), and the Helm values
structurally, with their queue limits held equal to deploy/dagster.yaml's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from numerai_assets.core.training.roster import load_roster
from numerai_assets.definitions import build_definitions
from numerai_assets.settings import Settings
from numerai_assets_tests.deploy.conftest import DEPLOY_YAML, REPO, require_deploy_extras

HELM = REPO / "deploy" / "helm" / "values.yaml"


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"NUMERAI_ASSETS_HOME": str(tmp_path)} | env)


@pytest.mark.parametrize("executor", ["celery", "k8s"])
def test_executor_from_env_runs_training_elsewhere_and_the_round_in_process(tmp_path: Path, executor: str):
    require_deploy_extras()
    defs = build_definitions(settings(tmp_path, NUMERAI_ASSETS_EXECUTOR=executor), load_roster())
    assert defs.resolve_job_def("training_job").executor_def.name == executor
    assert defs.resolve_job_def("evaluation_job").executor_def.name == executor
    assert defs.resolve_job_def("live_round_job").executor_def.name == "in_process"
    default = build_definitions(settings(tmp_path), load_roster())
    assert default.resolve_job_def("training_job").executor_def.name == "multiprocess"


def test_executor_name_typo_is_refused_naming_the_variable(tmp_path: Path):
    with pytest.raises(ValueError, match="NUMERAI_ASSETS_EXECUTOR='kubernetes' is not accepted"):
        settings(tmp_path, NUMERAI_ASSETS_EXECUTOR="kubernetes")


def test_training_step_pods_get_their_resources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    require_deploy_extras()
    from dagster_k8s.models import k8s_model_from_dict
    from kubernetes.client import V1Container

    from numerai_assets.resources.deploy import TRAINING_STEP, training_executor, training_step_k8s_config

    monkeypatch.setenv("NUMERAI_ASSETS_TRAINING_MEMORY", "48Gi")
    config = training_step_k8s_config()
    assert config[TRAINING_STEP]["container_config"]["resources"]["requests"] == {"cpu": "2", "memory": "48Gi"}
    executor = training_executor(settings(tmp_path, NUMERAI_ASSETS_EXECUTOR="k8s"))
    assert executor is not None and executor.name == "k8s"
    # dagster-k8s builds the step pod's container from this dict: its own model check accepts it
    container = k8s_model_from_dict(V1Container, {"name": "step", **config[TRAINING_STEP]["container_config"]})
    assert container.resources.requests == {"cpu": "2", "memory": "48Gi"}
    with pytest.raises(Exception, match="resourcez"):  # and it does refuse a wrong field
        k8s_model_from_dict(V1Container, {"name": "step", "resourcez": {}})
    assert TRAINING_STEP in {k.to_user_string() for a in build_definitions(settings(tmp_path)).assets for k in a.keys}


def test_dagster_cloud_yaml_is_a_valid_k8s_container_context_without_volumes_or_secrets():
    require_deploy_extras()
    from dagster_k8s.container_context import K8sContainerContext
    from dagster_k8s.models import k8s_model_from_dict
    from kubernetes.client import V1Container

    (location,) = yaml.safe_load((REPO / "dagster_cloud.yaml").read_text())["locations"]
    context = K8sContainerContext.create_from_config(location["container_context"])  # raises when invalid
    container = context.run_k8s_config.container_config  # what each run pod's container gets
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["NUMERAI_ASSETS_STORE_URL"].startswith("s3://") and env["NUMERAI_ASSETS_EXECUTOR"] == "k8s"
    assert container["env_from"] == [{"secret_ref": {"name": "numerai-assets-secrets"}}]
    assert "volume_mounts" not in container and not context.run_k8s_config.pod_spec_config.get("volumes")
    k8s_model_from_dict(V1Container, {"name": "run", **container})  # a container Kubernetes accepts
    Settings.from_env(env)  # every value the code location gets parses
    assert location["code_source"]["module_name"] == "numerai_assets.definitions"


def test_helm_values_match_the_production_instance_and_hold_no_secret():
    values = yaml.safe_load(HELM.read_text())
    instance = yaml.safe_load(DEPLOY_YAML.read_text())
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    runs = instance["concurrency"]["runs"]
    assert queued["maxConcurrentRuns"] == runs["max_concurrent_runs"]
    assert queued["tagConcurrencyLimits"] == runs["tag_concurrency_limits"]
    retries = values["dagsterDaemon"]["runRetries"]
    assert retries["maxRetries"] == instance["run_retries"]["max_retries"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["postgresqlScheme"] == instance["storage"]["postgres"]["postgres_db"]["scheme"]
    assert values["generatePostgresqlPasswordSecret"] is False and "postgresqlPassword" not in values["postgresql"]
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    env = {e["name"]: e["value"] for e in deployment["env"]}
    assert env["NUMERAI_ASSETS_EXECUTOR"] == "k8s" and env["NUMERAI_ASSETS_STORE_URL"].startswith("s3://")
    Settings.from_env(env)
    assert not any(word in name for name in env for word in ("SECRET", "KEY", "PASSWORD"))
    assert "volumes" not in str(values)
