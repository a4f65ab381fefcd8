# govpatrol: the daemon with Debian's Chromium and CJK fonts (the same packages that
# scripts/setup installs), pinned Python packages from requirements.lock, non-root.
# One image for every role: run (the default), scheduler, worker, web (see compose.yaml).
FROM debian:bookworm-slim

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# Debian's security updates move these packages; pinning versions would break rebuilds.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      chromium fonts-noto-cjk python3 python3-venv ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 govpatrol \
 && mkdir -p /var/lib/govpatrol \
 && chown govpatrol:govpatrol /var/lib/govpatrol

WORKDIR /opt/govpatrol
COPY pyproject.toml requirements.lock README.md ./
COPY bot ./bot
COPY config ./config
COPY core ./core
COPY notifications ./notifications
COPY probes ./probes
COPY sandbox ./sandbox
COPY tasks ./tasks
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir -c requirements.lock .

USER 10001
ENV PATH=/opt/venv/bin:$PATH \
    GOVPATROL_DATA_DIR=/var/lib/govpatrol \
    GOVPATROL_CATALOG=/etc/govpatrol/catalog.yaml \
    GOVPATROL_CHROMIUM_PATH=/usr/bin/chromium \
    GOVPATROL_WEB_HOST=0.0.0.0 \
    GOVPATROL_WEB_PORT=8600
VOLUME ["/var/lib/govpatrol"]
EXPOSE 8600

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python3", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8600/healthz', timeout=4).status != 200)"]

# tini as PID 1 reaps Chromium's children (renderers, zygotes) and forwards SIGTERM.
ENTRYPOINT ["/usr/bin/tini", "--", "govpatrol"]
CMD ["run", "--upgrade"]
