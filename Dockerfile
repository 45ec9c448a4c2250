# syntax=docker/dockerfile:1.7
# Incentiva web/worker/beat image. Build: docker build -t incentiva .   Run: see docker-compose.yml.
ARG PYTHON_VERSION=3.11

# ----------------------------------------------------------------------------------------------- assets
# Front-end libraries (Chart.js, htmx) from the npm registry, at package-lock.json's versions; only their
# dist folders are published as static files (settings.FRONTEND_VENDOR_DIRS).
FROM node:20-bookworm-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

# ---------------------------------------------------------------------------------------------- builder
FROM python:${PYTHON_VERSION}-slim-bookworm AS builder

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_NO_CACHE=1 \
    UV_LINK_MODE=copy

# Compilers only for a dependency without a wheel for this platform; none of it reaches the runtime stage.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN pip install uv==0.13.8 && python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /app
COPY pyproject.toml requirements.lock ./
# requirements.lock pins every package, the dev extra (pytest, playwright...) included. The image installs
# the runtime dependencies only, each at its locked version (the lock is the constraint file), with
# bytecode compiled ahead so containers start without writing .pyc files.
RUN uv pip compile pyproject.toml --constraint requirements.lock --quiet --no-header -o /tmp/requirements.runtime.txt \
 && uv pip install --python /opt/venv/bin/python --compile-bytecode -r /tmp/requirements.runtime.txt

COPY . .
COPY --from=assets /assets/node_modules ./node_modules

# Build-time values only: production settings refuse to load without them, and neither command below
# opens a connection. This stage is discarded; the runtime stage gets its secrets from the environment.
ENV DJANGO_SETTINGS_MODULE=incentiva.settings.production \
    SECRET_KEY=build-only-secret-key-never-used-at-runtime-0123456789abcdef \
    FIELD_ENCRYPTION_KEY=YnVpbGQtb25seS1ub3QtYS1zZWNyZXQtMTIzNDU2Nzg= \
    DATABASE_URL=postgres://build@127.0.0.1:5432/build \
    REDIS_URL=redis://127.0.0.1:6379 \
    ALLOWED_HOSTS=build.invalid
RUN python manage.py compile_catalogs \
 && python manage.py collectstatic --noinput --verbosity 0 \
 && python -m compileall -q -j 0 apps incentiva manage.py \
 && rm -rf node_modules

# ---------------------------------------------------------------------------------------------- runtime
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=incentiva.settings.production \
    INCENTIVA_DATA_DIR=/app/.incentiva \
    PORT=8000

RUN groupadd --system --gid 10001 incentiva \
 && useradd --system --uid 10001 --gid incentiva --home-dir /app --no-create-home --shell /usr/sbin/nologin incentiva

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
# Code, compiled catalogs and collected static files stay root-owned: the app user can read, not change them.
COPY --from=builder /app /app
# The only writable place: uploaded media (mount a volume here).
RUN mkdir -p /app/.incentiva/media && chown -R incentiva:incentiva /app/.incentiva

USER incentiva:incentiva
EXPOSE 8000

# /healthz is answered before host and tenant resolution, so probing by IP over plain HTTP works.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# HTTP (pages and API): gunicorn's sync workers, WEB_CONCURRENCY of them (default: the CPUs the container may
# use, plus one: a request is CPU-bound, and more workers only switch contexts), each keeping its
# database connection (CONN_MAX_AGE 60 unless set). They serve a request for about half the CPU of the ASGI
# server, whose sync-to-async hops Django's sync views pay on every request (docs/operations.md, Performance).
# TLS ends at the proxy in front, which sets X-Forwarded-Proto (trusted from FORWARDED_ALLOW_IPS only).
# gunicorn's own access log is off: the app writes one JSON line per request (apps/core/middleware.py).
# Websockets (/ws/, Channels) need ASGI: run this image a second time with the command below (CONN_MAX_AGE stays
# 0 there) and route /ws/ to it at the proxy (docs/operations.md, Servers):
#   uvicorn incentiva.asgi:application --host 0.0.0.0 --port "$PORT" --proxy-headers --no-server-header --no-access-log --lifespan off
CMD ["sh", "-c", "exec env CONN_MAX_AGE=\"${CONN_MAX_AGE:-60}\" gunicorn incentiva.wsgi:application --bind \"0.0.0.0:$PORT\" --workers \"${WEB_CONCURRENCY:-$(( $(nproc) + 1 ))}\" --worker-class sync --forwarded-allow-ips \"${FORWARDED_ALLOW_IPS:-127.0.0.1}\" --worker-tmp-dir /dev/shm --no-control-socket --timeout 30 --graceful-timeout 30 --log-level warning"]
