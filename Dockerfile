# One image for every Dozor process; the k8s manifests pick the command.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 dozor
WORKDIR /app
COPY pyproject.toml README.md ./
COPY contract contract
COPY dozor dozor
COPY registry registry
COPY detectors detectors
COPY consumers consumers
RUN pip install --no-cache-dir .
USER dozor
ENV YOLO_CONFIG_DIR=/tmp/yolo DOZOR_STATE_DIR=/tmp/dozor DOZOR_API_HOST=0.0.0.0
ENTRYPOINT ["dozor"]
