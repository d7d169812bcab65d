# syntax=docker/dockerfile:1
# accessbot: build wheels in one stage, run as an unprivileged user in a slim second stage.

FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY workflows ./workflows
COPY adapters ./adapters
COPY bot ./bot
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim AS runtime
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PORT=3978 LOG_FORMAT=json \
    DATABASE_URL=sqlite+aiosqlite:////data/accessbot.db \
    ACCESSBOT_CONFIG=/config/accessbot.toml
RUN groupadd --system --gid 10001 accessbot \
    && useradd --system --uid 10001 --gid accessbot --home-dir /data --shell /usr/sbin/nologin accessbot \
    && mkdir -p /data /config \
    && chown accessbot:accessbot /data
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links=/wheels "accessbot==0.1.0" && rm -rf /wheels
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3978'), timeout=4)"]
ENTRYPOINT ["accessbot", "serve"]
