# Stockroom's shared install: the app (and, with another command, the scheduler) in one image.
# Build: docker compose build   (see README, "Shared install", and compose.yaml)
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    STOCKROOM_DATA_ROOT=/data \
    PATH=/app/.venv/bin:$PATH

WORKDIR /app
# the locked dependencies first: a code change does not reinstall them
COPY requirements.lock pyproject.toml README.md ./
COPY scripts/setup.sh scripts/setup.sh
COPY lib lib
COPY jobs jobs
COPY benchmarks benchmarks
COPY app_pages app_pages
COPY notebooks notebooks
COPY app.py ./
COPY data/raw data/raw
COPY data/README.md data/README.md
# setup.sh: .venv from the lock (hash-checked), bytecode compiled once at build time
RUN bash scripts/setup.sh \
    && useradd --uid 10001 --create-home stockroom \
    && mkdir -p /data && chown stockroom /data

USER stockroom
VOLUME ["/data"]
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
CMD ["stockroom", "serve", "--address", "0.0.0.0", "--port", "8501"]
