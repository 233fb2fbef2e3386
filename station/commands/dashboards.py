"""``specmon dashboards``: export the Grafana dashboards and provisioning files, or push them to a Grafana."""

from __future__ import annotations

import argparse
import os

DESCRIPTION = """\
Grafana dashboards for specmon (Network overview, Band view, Violations, Station health), built from the
stored-name vocabulary, with InfluxQL queries that work on InfluxDB 1.x, 2.x (v1 API) and 3.x.

  export DIR   write DIR/datasources/*.yaml, DIR/dashboards/specmon.yaml and DIR/dashboards/specmon/*.json:
               copy DIR to Grafana's provisioning folder (/etc/grafana/provisioning) and restart Grafana.
  push         create or update the datasources, the folder and the dashboards through Grafana's HTTP API;
               a second push with the same inputs changes nothing.
  list         print the dashboards' UIDs and titles.
"""


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("dashboards", help="export Grafana dashboards + provisioning files, or push them to Grafana",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    acts = p.add_subparsers(dest="action", metavar="ACTION")

    def influx_options(q: argparse.ArgumentParser, url_flag: str) -> None:
        q.add_argument(url_flag, dest="influx_url", default=None, metavar="URL",
                       help="InfluxDB URL as Grafana's server sees it (default http://localhost:8086)")
        q.add_argument("--token-datasource-url", dest="token_url", default=None, metavar="URL",
                       help="URL of the InfluxDB 2.x/3.x server for the token datasource (default: the same URL)")
        q.add_argument("--database", default=None, metavar="DB",
                       help="InfluxDB database (1.x) / database mapped to the bucket (2.x) / database (3.x); "
                            "default specmon")
        q.add_argument("--min-interval", default="10s", metavar="DURATION",
                       help="datasource minimum $__interval, about one sweep revisit (default 10s)")

    ex = acts.add_parser("export", help="write dashboard JSON and Grafana provisioning files into DIR",
                         description="Write DIR/datasources/specmon-influxdb.yaml, DIR/dashboards/specmon.yaml, "
                         "DIR/dashboards/specmon/<uid>.json and the alert rules DIR/alerting/specmon-alerts.yaml "
                         "(new violation case, station health; docs/DASHBOARDS.md). Copy DIR to Grafana's provisioning folder. Secrets "
                         "are not written: Grafana reads SPECMON_INFLUX_USER, SPECMON_INFLUX_PASSWORD and "
                         "SPECMON_INFLUX_TOKEN from its environment.")
    ex.add_argument("dir", metavar="DIR", help="output folder (created; existing specmon files are replaced)")
    influx_options(ex, "--influx-url")
    ex.add_argument("--web-url", default=None, metavar="URL",
                    help="the station web app the case table links to (default http://localhost:8088; docs/WEB.md)")
    ex.add_argument("--alerts-datasource", default="specmon-influxql",
                    choices=("specmon-influxql", "specmon-influxql-token"),
                    help="datasource the alert rules query: InfluxDB 1.x (default) or the 2.x/3.x token datasource")
    ex.add_argument("--no-alerts", action="store_true", help="do not write the alert rules")
    ex.add_argument("--provisioning-dir", default="/etc/grafana/provisioning", metavar="PATH",
                    help="where DIR will live on the Grafana host; the dashboards provider points at "
                         "PATH/dashboards/specmon (default /etc/grafana/provisioning)")
    ex.set_defaults(func=run_export)

    pu = acts.add_parser("push", help="create or update datasources, folder and dashboards in a running Grafana",
                         description="Create or update the two InfluxDB datasources, the folder and the dashboards "
                         "through Grafana's HTTP API (grafana-client; pip install 'specmon[grafana]'). Objects "
                         "are compared first and written only when missing or different.")
    pu.add_argument("--url", required=True, help="Grafana root URL, e.g. http://grafana:3000 (with sub-path if any)")
    pu.add_argument("--token", default=os.environ.get("SPECMON_GRAFANA_TOKEN"),
                    help="Grafana service-account token (default: $SPECMON_GRAFANA_TOKEN)")
    pu.add_argument("--user", default=None, help="Grafana user (basic auth; with --password)")
    pu.add_argument("--password", default=None, help="Grafana password (basic auth; with --user)")
    pu.add_argument("--folder", default="specmon", metavar="NAME", help="dashboard folder title (default specmon)")
    influx_options(pu, "--datasource-url")
    pu.add_argument("--influx-user", default=None, help="InfluxDB 1.x user stored in the InfluxQL datasource")
    pu.add_argument("--influx-password", default=None, help="InfluxDB 1.x password stored in the datasource")
    pu.add_argument("--influx-token", default=None,
                    help="InfluxDB 2.x/3.x token stored in the token datasource (kept as is when omitted)")
    pu.add_argument("--no-datasources", action="store_true", help="push folder and dashboards only")
    pu.add_argument("--force", action="store_true",
                    help="write datasources and dashboards even when unchanged (e.g. to rotate an InfluxDB secret, "
                         "which Grafana never returns and so cannot be compared)")
    pu.add_argument("--timeout", type=float, default=10.0, metavar="S", help="HTTP timeout in seconds (default 10)")
    pu.set_defaults(func=run_push)

    ls = acts.add_parser("list", help="print the dashboards' UIDs, titles and panel counts")
    ls.set_defaults(func=run_list)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    return p


SDK_REQUIREMENT = "grafana-foundation-sdk==1769699379!11.6.0"


def _render(web_url: str | None = None):
    """All dashboards as JSON; a one-line error when the builder library is missing."""
    try:
        import grafana_foundation_sdk  # noqa: F401
    except ImportError:
        from station.errors import UsageError

        raise UsageError(f"the dashboards need grafana-foundation-sdk: pip install '{SDK_REQUIREMENT}'") from None
    import dashboards

    if web_url is not None and not web_url.startswith(("http://", "https://")):
        from station.errors import UsageError

        raise UsageError(f"--web-url {web_url!r}: expected http://host:port or https://host:port")
    return dashboards.render(web_url=web_url)


def _settings(args):
    from dashboards.provisioning import DEFAULT_DATABASE, DEFAULT_INFLUX_URL, DatasourceSettings
    from station.errors import UsageError

    url = args.influx_url or DEFAULT_INFLUX_URL
    for flag, value in (("influx URL", url), ("--token-datasource-url", args.token_url)):
        if value is not None and not value.startswith(("http://", "https://")):
            raise UsageError(f"{flag} {value!r}: expected http://host:port or https://host:port")
    return DatasourceSettings(url=url, database=args.database or DEFAULT_DATABASE, token_url=args.token_url,
                              min_interval=args.min_interval)


def _alerts(args):
    """The alert-rule document, or None with --no-alerts."""
    if getattr(args, "no_alerts", False):
        return None
    from dashboards.alerts import WEB_DEFAULT, rules_document

    return rules_document(datasource_uid=getattr(args, "alerts_datasource", "specmon-influxql"),
                          web_url=getattr(args, "web_url", None) or WEB_DEFAULT)


def run_export(args) -> int:
    from pathlib import Path

    from dashboards.provisioning import write_folder
    from station.errors import UsageError

    out = Path(args.dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a folder")
    boards = _render(getattr(args, "web_url", None))
    try:
        files = write_folder(out, boards, _settings(args), args.provisioning_dir, alerts=_alerts(args))
    except OSError as exc:
        raise UsageError(f"{out}: cannot write: {exc.strerror or exc}") from None
    for f in files:
        print(f)
    return 0


def run_push(args) -> int:
    from dashboards import push as pushmod
    from dashboards.provisioning import FOLDER_UID, datasources

    user_given = args.user is not None or args.password is not None
    token = None if user_given and args.token == os.environ.get("SPECMON_GRAFANA_TOKEN") else args.token
    api = pushmod.connect(args.url, token=token, user=args.user, password=args.password, timeout_s=args.timeout)
    secrets_given = any(v is not None for v in (args.influx_user, args.influx_password, args.influx_token))
    ds = [] if args.no_datasources else datasources(
        _settings(args), user=args.influx_user or "", password=args.influx_password or "",
        token=args.influx_token or "")
    if not secrets_given:
        for d in ds:
            d.pop("secureJsonData", None)
    report = pushmod.push(api, args.url, _render(), ds, folder_title=args.folder, folder_uid=FOLDER_UID,
                          secrets_given=secrets_given, force=args.force)
    print(f"{args.url}: {report.summary()}")
    return 0


def run_list(args) -> int:
    for uid, board in _render().items():
        print(f"{uid:<22} {len(board['panels']):>3} panels  {board['title']}")
    return 0
