"""The bare twisted.web server the benchmarks compare the engine's API with: a Site that logs nothing.

Imported only by modes that serve HTTP anyway, so the other modes never load twisted.web.
"""

from __future__ import annotations

from twisted.web import http, server


class QuietSite(server.Site):
    """A ``Site`` without an access log, as the engine's API runs by default."""

    def log(self, request: http.Request) -> None:  # the HTTP access log hook
        """Log nothing: a line per request would be part of what the benchmark measures."""
