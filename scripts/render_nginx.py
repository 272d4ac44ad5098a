"""Fills deploy/nginx/trapline.conf with this installation's paths; prints the server block."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "deploy" / "nginx" / "trapline.conf"


def render(
    *,
    data_dir: Path,
    server_name: str = "_",
    listen: str = "80",
    upstream: str = "127.0.0.1:8000",
    max_body: str = "20g",
) -> str:
    import flask_dropzone

    values = {
        "DATA_DIR": str(data_dir.resolve()),
        "STATIC_DIR": str(REPO / "web" / "static"),
        "DROPZONE_DIR": str(Path(flask_dropzone.__file__).parent / "static"),
        "SERVER_NAME": server_name,
        "LISTEN": listen,
        "UPSTREAM": upstream,
        "MAX_BODY": max_body,
    }
    text = TEMPLATE.read_text()
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    if "@@" in text:
        raise SystemExit("render_nginx: a placeholder was left unfilled")
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True, help="TRAPLINE_DATA_DIR")
    parser.add_argument("--server-name", default="_")
    parser.add_argument("--listen", default="80")
    parser.add_argument("--upstream", default="127.0.0.1:8000", help="gunicorn's bind address")
    parser.add_argument("--max-body", default="20g", help="same as TRAPLINE_MAX_UPLOAD_BYTES")
    args = parser.parse_args()
    sys.stdout.write(
        render(
            data_dir=args.data_dir,
            server_name=args.server_name,
            listen=args.listen,
            upstream=args.upstream,
            max_body=args.max_body,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
