"""``pars-docs listen``: the HL7 v2 interface on MLLP (see :mod:`pars_docs.listen`)."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click

from ..errors import ExitStatus, ParsDocsError, UsageError
from ._common import SITE_OPTION, Report, fail, load_site_noting_default, script_options


def _address(value: str | None, option: str, lowest: int = 1) -> tuple[str, int] | None:
    if not value:
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not lowest <= int(port) < 65536:
        raise UsageError(f"{option}: '{value}' must be HOST:PORT", field=option.strip("-"))
    return host, int(port)


@click.command()
@click.option(
    "--host",
    help="Address to listen on. Default: the site profile's listen_address, else 127.0.0.1 "
    "(loopback).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help="Port (0: any free one). Default: the site profile's listen_address, else 2575.",
)
@SITE_OPTION
@click.option("--codes", "code_map", metavar="FILE", help="Code map (as for batch).")
@click.option("--out-dir", type=click.Path(path_type=Path), help="Write each PDF here.")
@click.option(
    "--mdm-to",
    metavar="HOST:PORT",
    help="Send each new PDF as an HL7 MDM^T02 (OBX-5 the PDF, base64) to this MLLP receiver.",
)
@click.option(
    "--mdm-dir", type=click.Path(path_type=Path), help="Write each MDM^T02 here as a .hl7 file."
)
@click.option(
    "--state",
    type=click.Path(path_type=Path),
    default=Path("pars-docs-listen.sqlite"),
    show_default=True,
    help="SQLite file recording every message answered, so one sent again (even after a "
    "restart) gets the same answer and no second handout.",
)
@click.option(
    "--tls-cert",
    type=click.Path(path_type=Path),
    help="MLLP over TLS: the listener's certificate (PEM). Needed, with --tls-key and "
    "--tls-client-ca, to listen on an address that is not loopback.",
)
@click.option(
    "--tls-key",
    type=click.Path(path_type=Path),
    help="The private key of --tls-cert (PEM), readable by its owner only.",
)
@click.option(
    "--tls-client-ca",
    type=click.Path(path_type=Path),
    help="Certificate authorities (PEM) whose client certificates are accepted: a sender "
    "without one is not answered.",
)
@click.option("--include-past", is_flag=True, help="Make handouts for appointments already past.")
@click.option("--as-of", metavar="DATE", help="Treat 'now' as this date (YYYY-MM-DD), for tests.")
@script_options
def listen(
    host: str | None,
    port: int | None,
    site: str | None,
    code_map: str | None,
    out_dir: Path | None,
    mdm_to: str | None,
    mdm_dir: Path | None,
    state: Path,
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_client_ca: Path | None,
    include_past: bool,
    as_of: str | None,
    errors: str,
    verbose: bool,
) -> None:
    """Listen for HL7 v2 SIU^S12-S15 messages on MLLP and answer each with an ACK: AA when
    its handout is made (or it rightly gets none), AE or AR with an ERR segment naming the
    field when not. SIGTERM or Ctrl-C stops it cleanly."""
    report = Report.start(errors, verbose)
    try:
        from ..listen import Listener, ListenerOptions
        from ..listen.server import Server, TlsOptions, check_exposure
        from ..service.inputs import parse_as_of

        profile = load_site_noting_default(site, report, feed="HL7 v2 input", zone_option=False)
        configured = _address(profile.listen_address, "listen_address", 0) or ("127.0.0.1", 2575)
        host = host or configured[0]
        port = configured[1] if port is None else port
        given = {"--tls-cert": tls_cert, "--tls-key": tls_key, "--tls-client-ca": tls_client_ca}
        if any(given.values()) and not all(given.values()):
            missing = [option for option, value in given.items() if not value]
            raise UsageError(
                f"listen: TLS needs --tls-cert, --tls-key and --tls-client-ca; "
                f"{', '.join(missing)} missing",
                field=missing[0][2:],
            )
        tls = None
        if tls_cert and tls_key and tls_client_ca:
            tls = TlsOptions(tls_cert, tls_key, tls_client_ca)
        elif profile.listen_tls:
            tls = TlsOptions(*profile.listen_tls)
        # Before the engine loads: an exposed port or a bad certificate is refused at once.
        check_exposure(host, tls)
        if tls is not None:
            tls.context()
        options = ListenerOptions(
            host=host,
            port=port,
            state=state,
            out_dir=out_dir,
            mdm_to=_address(mdm_to, "--mdm-to"),
            mdm_dir=mdm_dir,
            codes=code_map,
            include_past=include_past,
            as_of=parse_as_of(as_of),
            tls=tls,
        )
        for folder in (out_dir, mdm_dir):
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
        listener = Listener(profile, options, report.note)
        server = Server(listener, options)
    except ParsDocsError as e:
        fail(report, e)
    except OSError as e:
        fail(
            report,
            UsageError(f"listen: cannot listen on {options.host}:{options.port} ({e.strerror})"),
        )

    def stop(signum, frame) -> None:
        server.stopping.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    how = "MLLP over TLS, client certificates required" if server.tls else "MLLP"
    report.note(f"listening on {server.address} ({how}); SIGTERM or Ctrl-C stops")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        answered = listener.answered.count()
        listener.close()
    report.note(f"stopped; {answered} messages answered in all (recorded in {state})")
    sys.exit(ExitStatus.SUCCESS)
