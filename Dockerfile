# The user-code image: the code location (`assets.definitions`, as in workspace.yaml) served over
# Dagster's gRPC API on port 3030, and the image every run starts from under the K8sRunLauncher
# (deploy/helm/values.yaml, docs/deploy.md). Dagster's webserver and daemon run from Dagster's own
# images; nothing here is needed by them.
#
#   docker build -t openai-usage-warehouse:0.1.0 .
#   docker run --rm -p 3030:3030 -e WAREHOUSE_URL=... -e OPENAI_ADMIN_KEY=... openai-usage-warehouse:0.1.0
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# A pinned uv, used only to install the lock.
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH=/app/.venv/bin:$PATH \
    WAREHOUSE_PATH=/data/openai_usage.duckdb
WORKDIR /app

# Dependencies first, in a layer that changes only with the lock: exactly the versions of
# uv.lock, without the development group (tests, linters, benchmarks).
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev
# dagster-k8s: the instance the Helm chart writes names the K8sRunLauncher, which every run pod
# loads, so Dagster asks for it in user-code images. It is not in the lock (no other way of
# running needs it): it is installed at the version of the locked Dagster libraries, with every
# locked package held at its locked version.
RUN uv export --quiet --frozen --no-dev --no-hashes --no-emit-project -o locked.txt \
    && version="$(sed -n 's/^dagster-postgres==//p' locked.txt)" \
    && test -n "$version" \
    && uv pip install --python /app/.venv/bin/python --constraint locked.txt \
        "dagster-k8s==${version}" \
    && rm locked.txt

COPY . .
# The dbt manifest, parsed now (no database needed), so code servers and run pods load the
# definitions without parsing the project first. dagster-dbt runs the `dbt` of the environment,
# hence PATH.
RUN python -m assets.dbt

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
COPY --from=build /app /app
# Writable by the app user: the working folder (dlt's and dbt's state, the serving files;
# mount a volume on /data/serving to keep those) and dbt's target folder.
RUN mkdir -p /data && chown app:app /data /app/dbt_models/target
# DAGSTER_EVENT_BATCH_SIZE: Dagster writes a step's per-day materializations in batches, one
# insert each with dagster-postgres (the Makefile sets the same).
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    WAREHOUSE_PATH=/data/openai_usage.duckdb \
    DAGSTER_EVENT_BATCH_SIZE=1000
WORKDIR /app
USER 10001
EXPOSE 3030
# Exec form: dagster is PID 1 and gets SIGTERM itself; it stops on it as on Ctrl-C, in seconds.
CMD ["dagster", "api", "grpc", "--module-name", "assets.definitions", "--working-directory", "/app", "--host", "0.0.0.0", "--port", "3030"]
