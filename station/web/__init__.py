"""The station's own read-only web app (docs/WEB.md): live spectrum and waterfall of every band, station
health, violation cases with their evidence (images, audio, IQ, bundle), JSON endpoints and Prometheus
``/metrics``.

- :mod:`station.web.hub`: :class:`LiveHub`, what the sweep loop hands over (latest decimated spectrum per band,
  waterfall rows, health); the loop's only cost;
- :mod:`station.web.server`: :class:`WebServer`, aiohttp in its own thread and event loop; routes, token check;
- :mod:`station.web.cases`: the case store opened read-only, cases and evidence as JSON, verification;
- :mod:`station.web.downloads`: demodulated audio (WAV) and the evidence bundle (zip);
- :mod:`station.web.metrics`: the Prometheus text exposition and the clock-synchronisation probe;
- :mod:`station.web.labels`: English and Vietnamese words (the reports' labels first);
- ``static/``: one HTML page shell, app.css and app.js (no framework, no CDN: stations are offline).

Enabled by ``[web] enabled = true`` (the demo has it on); bound to 127.0.0.1:8088 unless configured; a bearer
token is required on any other address.
"""

from station.web.hub import LiveHub
from station.web.server import WebServer, start_web

__all__ = ["LiveHub", "WebServer", "start_web"]
