"""`python -m dashboard`: serve the operations dashboard (live stock, sales, points, fraud alerts, lag)."""

from __future__ import annotations

import logging

from aiohttp import web

from dashboard.server import build
from ops import logs
from settings import Settings

log = logging.getLogger("omnistream.dashboard")


def main() -> None:
    settings = Settings.from_env()
    logs.setup(settings.log_format, settings.log_level)
    host = "127.0.0.1" if settings.dashboard_host in ("0.0.0.0", "::") else settings.dashboard_host
    log.info("dashboard on http://%s:%d/ (snapshot %s, worker port %d, sink port %d)", host,
             settings.dashboard_port, settings.analytics_path, settings.web_port, settings.sink_port)
    web.run_app(build(settings), host=settings.dashboard_host, port=settings.dashboard_port,
                print=None, access_log=None, handle_signals=True)


if __name__ == "__main__":
    main()
