# The one image every process of a deployment runs: serve, worker, beat and the operator commands.
FROM python:3.11-slim
ENV UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY hub hub
COPY settings settings
COPY workers workers
RUN uv sync --locked --no-dev
USER nobody
CMD ["python", "-m", "hub", "serve", "--host", "0.0.0.0", "--port", "8080"]
