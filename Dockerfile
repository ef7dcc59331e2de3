# One image for every shopfloor service; compose picks the subcommand (gateway, tracker, sim, demo).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only what `pip install .` needs, so edits to tests or docs do not bust the layer cache.
WORKDIR /build
COPY pyproject.toml README.md ./
COPY shopfloor ./shopfloor
COPY gateway ./gateway
COPY tracker ./tracker
COPY device_sim ./device_sim
COPY launcher ./launcher
RUN pip install . && rm -rf /build

# Non-root; /data is the working directory for anything written to disk (gateway spool,
# SQLite files in demo mode) and is owned by the app user so a named volume inherits that.
RUN groupadd --system --gid 10001 shopfloor \
    && useradd --system --uid 10001 --gid shopfloor --home-dir /data --shell /usr/sbin/nologin shopfloor \
    && mkdir -p /data \
    && chown shopfloor:shopfloor /data
WORKDIR /data
USER shopfloor:shopfloor

# The tracker's HTTP API (SHOPFLOOR_API_PORT).
EXPOSE 8000

ENTRYPOINT ["shopfloor"]
CMD ["--help"]
