"""`pars-docs listen` beyond loopback needs authentication (issue 22): MLLP has none, so the
listener refuses a non-loopback address unless it speaks TLS and requires a client
certificate from the authority it is given. Driven over real sockets: a real listener process,
real TLS handshakes with certificates made here by openssl (a clinic's CA, a rogue one)."""

import os
import socket
import ssl
import subprocess
import sys

import hl7
import pytest
from helpers import DATA
from test_listen import THIRDPARTY, Listening, message, msa

from pars_docs.errors import UsageError
from pars_docs.listen.mllp import FrameReader, frame
from pars_docs.listen.server import TlsOptions, check_exposure, loopback_only


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def authority(folder, name):
    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}",
        cwd=folder,
    )  # fmt: skip


def signed(folder, ca, name, extensions):
    openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}",
        cwd=folder,
    )  # fmt: skip
    (folder / f"{name}.ext").write_text(extensions + "\n")
    openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
        "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext",
        cwd=folder,
    )  # fmt: skip
    os.chmod(folder / f"{name}.key", 0o600)


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text((DATA / "site-ny.yaml").read_text(encoding="utf-8") + "fallback_language: en\n")
    return path


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    authority(folder, "clinic-ca")
    authority(folder, "rogue-ca")
    server = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"
    signed(folder, "clinic-ca", "listener", server)
    signed(folder, "clinic-ca", "engine", "extendedKeyUsage=clientAuth")
    signed(folder, "rogue-ca", "intruder", "extendedKeyUsage=clientAuth")
    return folder


def tls_args(folder):
    return (
        "--tls-cert", folder / "listener.pem", "--tls-key", folder / "listener.key",
        "--tls-client-ca", folder / "clinic-ca.pem",
    )  # fmt: skip


def client_context(folder, client: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(folder / "clinic-ca.pem"))
    if client:
        context.load_cert_chain(str(folder / f"{client}.pem"), str(folder / f"{client}.key"))
    return context


def send_tls(port, text, context) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as connection:
            connection.sendall(frame(text))
            reader = FrameReader()
            while True:
                data = connection.recv(65536)
                if not data:
                    raise ConnectionError("closed without an answer")
                frames = reader.feed(data)
                if frames:
                    return frames[0].decode("utf-8")


def refused(port, text, context) -> bool:
    """Whether the listener closes on a client before any answer."""
    try:
        send_tls(port, text, context)
    except (ssl.SSLError, ConnectionError, OSError):
        return True
    return False


def test_a_sender_with_the_clinics_certificate_is_answered_others_are_not(
    tmp_path, site, certificates
):
    out = tmp_path / "pdfs"
    listening = Listening(tmp_path, site, "--out-dir", out, *tls_args(certificates))
    try:
        # Without a client certificate, with one from another authority, or in plain MLLP:
        # no answer, and nothing made.
        assert refused(
            listening.port, message("SIU-S12-02.hl7"), client_context(certificates, None)
        )
        intruder = client_context(certificates, "intruder")
        assert refused(listening.port, message("SIU-S12-02.hl7"), intruder)
        with socket.create_connection(("127.0.0.1", listening.port), timeout=30) as plain:
            plain.sendall(frame(message("SIU-S12-02.hl7")))
            assert b"MSA" not in plain.recv(65536)
        assert not out.exists() or list(out.glob("*.pdf")) == []
        engine = client_context(certificates, "engine")
        ack = hl7.parse(send_tls(listening.port, message("SIU-S12-02.hl7"), engine))
        assert msa(ack)[::2] == ("AA", "handout made")
        assert len(list(out.glob("*.pdf"))) == 1
    finally:
        code, rest = listening.stop()
    assert code == 0
    assert rest.count("refused a connection from 127.0.0.1: TLS") >= 3, rest


def run_listen(tmp_path, site, *extra):
    return subprocess.run(
        [sys.executable, "-m", "pars_docs", "listen", "--site", str(site), "--port", "0",
         "--state", str(tmp_path / "s.sqlite"), *map(str, extra)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env=dict(os.environ, PARS_DOCS_CACHE=str(tmp_path / "cache")),
    )  # fmt: skip


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_an_address_beyond_loopback_without_tls_is_refused_before_binding(tmp_path, site, host):
    result = run_listen(tmp_path, site, "--host", host)
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        f"listen: {host} is not a loopback address, and MLLP has no authentication of its "
        "own; give --tls-cert, --tls-key and --tls-client-ca so only senders with a "
        "certificate from that authority are answered"
    )
    assert "listening" not in result.stderr


def test_the_site_profile_cannot_open_it_either(tmp_path, site):
    site.write_text(site.read_text(encoding="utf-8") + "listen_address: 0.0.0.0:0\n", "utf-8")
    result = run_listen(tmp_path, site)
    assert result.returncode == 2 and "0.0.0.0 is not a loopback address" in result.stderr


def test_half_a_tls_setup_and_a_key_others_can_read_are_refused(tmp_path, site, certificates):
    half = run_listen(tmp_path, site, "--tls-cert", certificates / "listener.pem")
    assert half.returncode == 2
    assert "TLS needs --tls-cert, --tls-key and --tls-client-ca; --tls-key, --tls-client-ca" in (
        half.stderr
    )
    open_key = tmp_path / "open.key"
    open_key.write_bytes((certificates / "listener.key").read_bytes())
    open_key.chmod(0o644)
    args = list(tls_args(certificates))
    args[3] = open_key
    exposed = run_listen(tmp_path, site, *args)
    assert exposed.returncode == 2 and "may be read by other users" in exposed.stderr


def test_which_addresses_are_loopback(certificates):
    assert loopback_only("127.0.0.1") and loopback_only("::1") and loopback_only("127.0.0.2")
    assert loopback_only("localhost")
    for host in ("", "0.0.0.0", "::", "192.0.2.10"):
        assert not loopback_only(host)
    with pytest.raises(UsageError, match="not a loopback address"):
        check_exposure("0.0.0.0", None)
    tls = TlsOptions(
        certificates / "listener.pem",
        certificates / "listener.key",
        certificates / "clinic-ca.pem",
    )
    check_exposure("0.0.0.0", tls)  # with client certificates required, it may listen there
    assert tls.context().verify_mode == ssl.CERT_REQUIRED


def test_the_site_profile_sets_address_and_tls_together(tmp_path, site, certificates):
    site.write_text(
        site.read_text(encoding="utf-8")
        + "listen_address: 127.0.0.1:0\n"
        + "listen_tls:\n"
        + f"  cert: {certificates / 'listener.pem'}\n"
        + f"  key: {certificates / 'listener.key'}\n"
        + f"  client_ca: {certificates / 'clinic-ca.pem'}\n",
        "utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "pars_docs", "listen", "--site", str(site), "--state",
         str(tmp_path / "s.sqlite"), "--as-of", "2019-01-01", "--codes",
         str(THIRDPARTY / "codes.yaml")],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env=dict(os.environ, PARS_DOCS_CACHE=str(tmp_path / "cache")),
    )  # fmt: skip
    try:
        line = process.stderr.readline()
        assert "(MLLP over TLS, client certificates required)" in line, line
        port = int(line.split("127.0.0.1:")[1].split()[0])
        assert refused(port, message("SIU-S12-02.hl7"), client_context(certificates, None))
        engine = client_context(certificates, "engine")
        ack = hl7.parse(send_tls(port, message("SIU-S12-02.hl7"), engine))
        assert msa(ack)[0] == "AA"
    finally:
        process.terminate()
        process.communicate(timeout=30)
