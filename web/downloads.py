"""A zip from the results folder, once the caller was checked: behind nginx
(`TRAPLINE_ACCEL_REDIRECT_PREFIX`) nginx sends the bytes from its internal location, else the
app does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, send_file

from web import resources


def zip_download(path: Path, filename: str) -> Any:
    """`path` lies under the results folder; `filename` is safe in a header."""
    accel = resources.settings().accel_redirect_prefix
    if accel:
        inside = path.relative_to(resources.storage().results_root).as_posix()
        return Response(
            status=200,
            mimetype="application/zip",
            headers={
                "X-Accel-Redirect": f"{accel.rstrip('/')}/{inside}",
                "Content-Disposition": f'attachment; filename="{filename}"',
            },
        )
    return send_file(path, mimetype="application/zip", as_attachment=True, download_name=filename)
