#!/usr/bin/env bash
# The prepared GPU check of issue 13 ("one GPU for the whole city"), in two steps.
#
#   bench/gpu_run.sh prepare     here, on a machine that reaches PyPI: fills .gpu/ (gitignored)
#                                with wheels for the GPU machine's Python 3.12 (what Dozor needs
#                                beyond its torch/opencv image), the 720p clip and the checkpoint
#   bench/gpu_run.sh run [N,..]  there (the `device` tool, carry: [".gpu"]): installs the wheels
#                                into /tmp, then runs bench.gpu_streams over the stream counts
#                                (default 16,32,64,110), results in $OUT (or .gpu/out)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DOZOR_SHARED_DIR:-$(cd .. && pwd)/shared}
CLIP=dual_carriageway_uk_approaching.mp4
CHECKPOINT=yolo11n_from_int8tflite.pt
# The versions the project's own environment runs (pyproject, .venv), built for CPython 3.12.
WHEELS=(
  pydantic==2.14.4 pydantic-core==2.50.5 pydantic-settings==2.16.3 python-dotenv==1.2.4
  typing-inspection==0.4.5 annotated-types==0.8.0 ultralytics==8.4.190 ultralytics-thop==2.2.3
  lap==0.5.13 sqlalchemy==2.1.9 kafka-python==3.0.12 minio==7.2.20 argon2-cffi==25.1.0
  argon2-cffi-bindings==26.2.0 crc32c==2.9.post0 pycryptodome==4.5.0 backports.strenum==1.2.8
  av==18.1.0 cryptography==51.0.1 cffi pycparser
)

case "${1:-}" in
  prepare)
    rm -rf .gpu && mkdir -p .gpu/whl .gpu/shared/media .gpu/shared/models
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
      --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
      --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      --platform manylinux1_x86_64 -d .gpu/whl "${WHEELS[@]}"
    cp "$SHARED/media/$CLIP" .gpu/shared/media/
    cp "$SHARED/models/$CHECKPOINT" .gpu/shared/models/
    du -sh .gpu
    ;;
  run)
    OUT=${OUT:-.gpu/out}
    mkdir -p "$OUT"
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site \
      .gpu/whl/*.whl
    export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
    export DOZOR_SHARED_DIR=$PWD/.gpu/shared DOZOR_MEDIA_DIR=$PWD/.gpu/shared/media
    export DOZOR_BACKEND=torch DOZOR_MODEL=$PWD/.gpu/shared/models/$CHECKPOINT
    export DOZOR_STATE_DIR=/tmp/dozor YOLO_OFFLINE=1 YOLO_AUTOINSTALL=False YOLO_CONFIG_DIR=/tmp/yolo
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
    python3 -m bench.gpu_streams --streams "${2:-16,32,64,110}" --seconds 20 \
      --json "$OUT/gpu_streams.json" 2>&1 | tee "$OUT/gpu_streams.txt"
    ;;
  *)
    echo "usage: bench/gpu_run.sh prepare | run [STREAMS]" >&2
    exit 2
    ;;
esac
