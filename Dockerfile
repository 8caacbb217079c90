# syntax=docker/dockerfile:1
# The numerai_assets image: one image for the code server, webserver, daemon, Celery workers and
# Kubernetes run/step pods (the entrypoint command differs; see docker-compose.yaml, deploy/).
# Build: docker build -t numerai_assets .   No credentials are baked in: every secret comes from
# the environment at run time.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# libgomp1: lightgbm/xgboost wheels link OpenMP; build-essential for any sdist without a wheel.
# Debian packages follow the base image's point release (security fixes), hence unpinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libgomp1 \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first (cached while only the code changes), pinned by constraints.txt.
COPY setup.py pyproject.toml constraints.txt README.md ./
COPY numerai_assets/__init__.py numerai_assets/__init__.py
RUN pip install -c constraints.txt ".[deploy]" && pip uninstall -y numerai_assets
COPY numerai_assets numerai_assets
RUN pip install --no-deps -c constraints.txt ".[deploy]"

FROM ${PYTHON_IMAGE} AS runtime
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 numerai \
    && useradd --system --uid 10001 --gid numerai --create-home --home-dir /home/numerai numerai \
    && mkdir -p /opt/dagster/dagster_home /data \
    && chown -R numerai:numerai /opt/dagster /data
COPY --from=build /opt/venv /opt/venv
COPY deploy/dagster.yaml /opt/dagster/dagster_home/dagster.yaml
COPY deploy/workspace.yaml /opt/dagster/workspace.yaml
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    NUMERAI_ASSETS_HOME=/data/numerai_assets \
    OMP_WAIT_POLICY=PASSIVE \
    GX_ANALYTICS_ENABLED=false \
    WANDB_SILENT=true
USER 10001:10001
WORKDIR /opt/dagster
EXPOSE 4000
# The code server answers gRPC health checks; other services override the healthcheck.
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["dagster", "api", "grpc-health-check", "--host", "127.0.0.1", "--port", "4000"]
ENTRYPOINT ["tini", "--"]
CMD ["dagster", "code-server", "start", "--host", "0.0.0.0", "--port", "4000", "--module-name", "numerai_assets.definitions", "--location-name", "numerai_assets"]
