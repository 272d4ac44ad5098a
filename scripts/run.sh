#!/usr/bin/env bash
# Sets everything up, then runs the whole service on this machine: Redis, the upload site and
# one model server. Prints the address; Ctrl-C stops all three cleanly. If one of them stops on
# its own, the script says which and stops the others: it is for trying Trapline on one
# machine; production runs each under systemd, which restarts it (README, "Deploying").
# Settings come from TRAPLINE_* variables (see README); sensible local defaults otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
# TRAPLINE_SKIP_SETUP=1 skips the install step (the tests of this script use it).
[[ "${TRAPLINE_SKIP_SETUP:-}" == 1 ]] || bash scripts/setup.sh

export TRAPLINE_DATA_DIR="${TRAPLINE_DATA_DIR:-$PWD/var}"
port="${TRAPLINE_PORT:-8000}"
redis_port="${TRAPLINE_REDIS_PORT:-6379}"
export TRAPLINE_REDIS_URL="${TRAPLINE_REDIS_URL:-redis://127.0.0.1:${redis_port}/0}"
export TRAPLINE_PUBLIC_URL="${TRAPLINE_PUBLIC_URL:-http://127.0.0.1:${port}}"
mkdir -p "$TRAPLINE_DATA_DIR/redis" models

# The detector: an explicit path, else a model already in models/ (MegaDetector first, then
# MegadetectorLite, which setup.sh installs, then the YOLOX-Nano stand-in), else fetch one.
if [[ -z "${TRAPLINE_MODEL_PATH:-}" ]]; then
    for candidate in models/md_v4.1.0.pb models/megadetector_v3.pb \
            models/megadetector_lite_yolox_tiny_640.tflite models/yolox_nano.onnx \
            models/yolox_nano_float16_quantize.tflite; do
        [[ -f "$candidate" ]] && export TRAPLINE_MODEL_PATH="$PWD/$candidate" && break
    done
fi
if [[ -z "${TRAPLINE_MODEL_PATH:-}" ]]; then
    echo "run: no detector model in models/; trying to download one"
    if .venv/bin/trapline-models download md_v4.1 --dir models; then
        export TRAPLINE_MODEL_PATH="$PWD/models/md_v4.1.0.pb"
    elif .venv/bin/trapline-models install megadetector-lite --dir models; then
        export TRAPLINE_MODEL_PATH="$PWD/models/megadetector_lite_yolox_tiny_640.tflite"
    elif .venv/bin/trapline-models download yolox_nano_onnx --dir models; then
        export TRAPLINE_MODEL_PATH="$PWD/models/yolox_nano.onnx"
    elif .venv/bin/trapline-models download yolox_nano --dir models; then
        export TRAPLINE_MODEL_PATH="$PWD/models/yolox_nano_float16_quantize.tflite"
    else
        export TRAPLINE_MODEL_PATH="$PWD/models/md_v4.1.0.pb"
        echo "run: no model could be downloaded. The site still comes up and says so; uploads"
        echo "run: wait in the queue until a model is put at $TRAPLINE_MODEL_PATH."
    fi
fi

# Species from examples: the embedding model (YOLOX-Nano's neck, ONNX), from models/ or fetched
# with its checksum; without it the class-set pages still work and uploads of examples wait.
if [[ -z "${TRAPLINE_SPECIES_EMBEDDER:-}" ]]; then
    if [[ -f models/yolox_nano.onnx ]] || .venv/bin/trapline-models download yolox_nano_onnx --dir models; then
        export TRAPLINE_SPECIES_EMBEDDER="$PWD/models/yolox_nano.onnx"
    else
        echo "run: no species embedder (models/yolox_nano.onnx could not be fetched): class sets cannot be taught"
    fi
fi

# Bad settings and a busy port are clear errors now, not a crash-looping process later.
if ! problem=$(.venv/bin/python -c "from shared.settings import Settings; Settings.from_env()" 2>&1); then
    echo "run: the settings are not valid: ${problem##*SettingsError: }" >&2
    exit 2
fi
if ! .venv/bin/python -c "import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', int(sys.argv[1])))" "$port" 2>/dev/null; then
    echo "run: port $port is already in use by another program; stop it or set TRAPLINE_PORT" >&2
    exit 2
fi

pids=()
names=()
stop() {
    trap - INT TERM EXIT
    echo; echo "run: stopping"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

if .venv/bin/python -c "import redis,sys; redis.Redis.from_url(sys.argv[1]).ping()" "$TRAPLINE_REDIS_URL" 2>/dev/null; then
    echo "run: using the Redis already answering at $TRAPLINE_REDIS_URL"
else
    redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$TRAPLINE_DATA_DIR/redis" \
        --appendonly yes --save "" --loglevel warning &
    pids+=($!); names+=("Redis")
fi

.venv/bin/trapline-worker &
pids+=($!); names+=("the model server")
GUNICORN_BIND="127.0.0.1:${port}" GUNICORN_WORKERS="${GUNICORN_WORKERS:-2}" \
    .venv/bin/gunicorn -c deploy/gunicorn.conf.py "web:create_app()" &
pids+=($!); names+=("the upload site")
# "up" only once the site really answers (a 503 from /healthz is an answer: it says why).
if ! .venv/bin/python - "$port" "${pids[-1]}" <<'PY'
import os, sys, time, urllib.error, urllib.request
port, pid = sys.argv[1], int(sys.argv[2])
for _ in range(600):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            sys.exit(1)
        time.sleep(0.1)
sys.exit(1)
PY
then
    echo "run: the upload site did not start on port ${port}; see the messages above" >&2
    exit 1
fi
echo "run: Trapline is up at http://127.0.0.1:${port}/  (model: $TRAPLINE_MODEL_PATH; Ctrl-C stops it)"
code=0
wait -n "${pids[@]}" || code=$?
for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
        echo "run: ${names[$i]} stopped (exit status $code), so run.sh stops the rest too;" \
            "start it again, or run Trapline under systemd, which restarts each part on its own" >&2
        break
    fi
done
exit "$code"
