# One image per role, from one file:
#   docker build --target api .       registry API, consumers, migrate Job: no torch, no OpenCV
#   docker build --target detector .  detector workers and replays: the `detector` extra
# The k8s manifests pick the command (`dozor registry serve`, `dozor worker run`, ...).
# The page's Leaflet, from npm at the version package-lock.json pins.
FROM node:20-bookworm-slim AS page
WORKDIR /page
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm AS source
RUN useradd --create-home --uid 10001 dozor
WORKDIR /app
COPY pyproject.toml README.md ./
COPY contract contract
COPY dozor dozor
COPY dozor_cli dozor_cli
COPY evidence evidence
COPY registry registry
COPY --from=page /page/node_modules/leaflet/dist registry/static/vendor/leaflet
COPY detectors detectors
COPY consumers consumers
ENV YOLO_CONFIG_DIR=/tmp/yolo DOZOR_STATE_DIR=/tmp/dozor DOZOR_API_HOST=0.0.0.0

FROM source AS api
RUN pip install --no-cache-dir .
# Numeric, so the kubelet can check runAsNonRoot against it.
USER 10001:10001
ENTRYPOINT ["dozor"]

FROM source AS detector
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir '.[detector]'
# Numeric, so the kubelet can check runAsNonRoot against it.
USER 10001:10001
ENTRYPOINT ["dozor"]
