"""gunicorn settings for the upload site: `gunicorn -c deploy/gunicorn.conf.py 'web:create_app()'`.

Threads, not more processes: most requests are short status polls and 8 MB upload chunks that
nginx has already buffered, so a few processes with several threads each serve them well and
keep memory low. Values can be overridden with GUNICORN_* environment variables.
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 5)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# An 8 MB chunk from nginx's buffer takes well under a second; 120 s leaves room for a slow disk.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss'
forwarded_allow_ips = "127.0.0.1,::1"
# `gunicornc -s /run/trapline/gunicorn.ctl` (worker status, reload): the socket in the runtime
# folder systemd makes for the service (RuntimeDirectory=trapline), readable by its user only.
# gunicorn's default is under $HOME, which the unit hides (ProtectHome) and which two sites on
# one machine would share.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "/run/trapline/gunicorn.ctl")
control_socket_mode = 0o600


def post_worker_init(worker: object) -> None:
    from shared.logs import configure_logging

    configure_logging()
