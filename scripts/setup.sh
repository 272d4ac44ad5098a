#!/usr/bin/env bash
# Installs everything Trapline needs on a Debian machine, as root: system packages and a Python
# virtual environment in .venv. Safe to run again; it only adds what is missing.
#   scripts/setup.sh          the service (Redis, Python packages for web + model server, and the
#                             models: MegadetectorLite and the species embedder, into models/)
#   scripts/setup.sh --test   also what the test suite needs (nginx, Chromium, systemd-analyze,
#                             a PostgreSQL server the tests start on their own, LibreOffice Calc
#                             and pdftotext, which judge how the Excel report prints)
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[[ "${1:-}" == "--test" ]] && with_tests=1

packages=(python3 python3-venv python3-pip redis-server)
commands=(python3 python3 python3 redis-server)
if (( with_tests )); then
    packages+=(nginx chromium systemd libreoffice-calc poppler-utils)
    commands+=(nginx chromium systemd-analyze soffice pdftotext)
fi

missing=()
for i in "${!packages[@]}"; do
    command -v "${commands[$i]}" >/dev/null 2>&1 || missing+=("${packages[$i]}")
done
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then missing+=(python3-venv); fi
# PostgreSQL's server programs live off PATH, under /usr/lib/postgresql/<version>/bin
if (( with_tests )) && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    missing+=(postgresql)
fi

if (( ${#missing[@]} )); then
    echo "setup: installing ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
        echo "setup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv
fi
extras="web,model"
(( with_tests )) && extras="web,model,test,docs"
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[${extras}]"
# MegaDetector's own validator judges detections.json in the tests: the package alone, since
# its declared dependencies pull in PyTorch and YOLOv5 (what the validator imports is in the
# test extras)
if (( with_tests )); then
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps megadetector==10.0.28
fi
# The offline default detector: MegadetectorLite, built from the zamba wheel on the package
# index (about 41 MB, checksums pinned; nothing of zamba or PyTorch is installed). The tests
# need it; the service can still run MegaDetector or YOLOX-Nano without it.
if ! .venv/bin/trapline-models install megadetector-lite --dir models >/dev/null; then
    if (( with_tests )); then
        echo "setup: MegadetectorLite could not be installed (see above); the tests need it" >&2
        exit 1
    fi
    echo "setup: MegadetectorLite could not be installed; MegaDetector or YOLOX-Nano can be used"
fi
# The species embedder (class sets), beside the detector in models/, where the model server and
# trapline-batch look for it: from its official release, or, on a machine that cannot reach it,
# from a copy named by TRAPLINE_EMBEDDER_FILE (the test setup uses the one in ../shared/models);
# either way checked against its pinned SHA-256.
embedder_file="${TRAPLINE_EMBEDDER_FILE:-}"
if [[ -z "$embedder_file" ]] && (( with_tests )) && [[ -f ../shared/models/yolox_nano.onnx ]]; then
    embedder_file=../shared/models/yolox_nano.onnx
fi
if [[ -n "$embedder_file" ]]; then
    embedder_from=(--file "$embedder_file")
else
    embedder_from=()
fi
if ! .venv/bin/trapline-models download yolox_nano_onnx --dir models "${embedder_from[@]}" >/dev/null; then
    echo "setup: the species embedder could not be installed (see above): class sets cannot be"
    echo "setup: taught until models/yolox_nano.onnx is there. Without access to its release, run"
    echo "setup: TRAPLINE_EMBEDDER_FILE=/path/to/yolox_nano.onnx bash scripts/setup.sh"
fi
echo "setup: ready (.venv with extras ${extras})"
