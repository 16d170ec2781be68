"""`pars-docs listen`, driven over real sockets (issue 22): a real listener process on
loopback, SIU messages from the third-party set in MLLP frames, ACKs and MDM^T02 documents
parsed with python-hl7; malformed frames, a client gone mid-message, a burst, a resend after a
restart, and SIGTERM."""

import base64
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import hl7
import pytest
from helpers import DATA, pdf_text

from pars_docs.listen.mllp import FrameReader, frame, send

THIRDPARTY = Path(__file__).resolve().parents[2] / "shared" / "thirdparty"
MS = THIRDPARTY / "hl7" / "ms"


def message(name: str, **replace: str) -> str:
    text = (MS / name).read_text(encoding="utf-8")
    for old, new in replace.items():
        text = text.replace(old, new)
    return "\r".join(line for line in text.splitlines() if line) + "\r"


class Receiver:
    """An MLLP receiver for the MDM^T02 documents: it keeps each and answers AA."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.received: list[str] = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            with connection:
                reader = FrameReader()
                while data := connection.recv(65536):
                    for raw in reader.feed(data):
                        text = raw.decode("utf-8")
                        self.received.append(text)
                        control = str(hl7.parse(text).segment("MSH")[10])
                        connection.sendall(
                            frame(f"MSH|^~\\&|EHR|||||||ACK|A{control}|P|2.5.1\rMSA|AA|{control}\r")
                        )


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8") + "fallback_language: en\n", "utf-8"
    )
    return path


class Listening:
    def __init__(self, tmp_path, site, *extra):
        self.args = [
            sys.executable,
            "-m",
            "pars_docs",
            "listen",
            "--port",
            "0",
            "--site",
            str(site),
            "--codes",
            str(THIRDPARTY / "codes.yaml"),
            "--as-of",
            "2019-01-01",
            "--state",
            str(tmp_path / "state.sqlite"),
            *map(str, extra),
        ]
        self.tmp_path = tmp_path
        self.start()

    def start(self):
        env = dict(os.environ, PARS_DOCS_CACHE=str(self.tmp_path / "cache"))
        self.process = subprocess.Popen(
            self.args, stderr=subprocess.PIPE, text=True, env=env, cwd=self.tmp_path
        )
        line = self.process.stderr.readline()
        assert "listening on 127.0.0.1:" in line, line + self.process.stderr.read()
        self.port = int(line.split("127.0.0.1:")[1].split()[0])

    def send(self, text: str):
        return hl7.parse(send("127.0.0.1", self.port, text).replace("\n", "\r"))

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        rest = self.process.stderr.read()
        return self.process.wait(timeout=30), rest


def msa(ack) -> tuple[str, str, str]:
    segment = ack.segment("MSA")
    return str(segment[1]), str(segment[2]), str(segment[3]) if len(segment) > 3 else ""


def test_a_booking_is_made_acked_and_sent_back_as_an_mdm(tmp_path, site):
    receiver = Receiver()
    out = tmp_path / "pdfs"
    listening = Listening(
        tmp_path,
        site,
        "--out-dir",
        out,
        "--mdm-to",
        f"127.0.0.1:{receiver.port}",
        "--mdm-dir",
        tmp_path / "mdm",
    )
    try:
        ack = listening.send(message("SIU-S12-02.hl7"))
        assert msa(ack) == ("AA", "MSG00012", "handout made")
        assert str(ack.segment("MSH")[9]).startswith("ACK")
        (pdf,) = out.glob("*.pdf")
        assert "Everyman" in pdf_text(pdf)
        (mdm_text,) = receiver.received
        mdm = hl7.parse(mdm_text)
        assert str(mdm.segment("MSH")[9]) == "MDM^T02^MDM_T02"
        assert str(mdm.segment("PID")[3]).startswith("PATID1234")
        txa = mdm.segment("TXA")
        assert str(txa[12]).startswith("urn:uuid:")
        obx = mdm.segment("OBX")
        assert str(obx[2]) == "ED"
        ed = obx[5]
        assert [str(ed[0][i]) for i in (1, 2, 3)] == ["AP", "PDF", "Base64"]
        assert base64.b64decode(str(ed[0][4])) == pdf.read_bytes()
        assert len(list((tmp_path / "mdm").glob("*.hl7"))) == 1
    finally:
        code, rest = listening.stop()
    assert code == 0 and "stopped; 1 messages answered" in rest


def test_skips_errors_and_rejections_each_get_their_ack(tmp_path, site):
    listening = Listening(tmp_path, site)
    try:
        cancelled = listening.send(message("SIU-S15-02.hl7"))
        assert msa(cancelled)[0] == "AA" and "cancelled" in msa(cancelled)[2]
        bad = listening.send(
            message("SIU-S12-02.hl7", **{"MSG00012": "BAD1", "202108181130+0215": "2021-13-45"})
        )
        assert msa(bad)[:2] == ("AE", "BAD1")
        err = bad.segment("ERR")
        assert str(err[2]) == "TQ1^1^7"
        assert "TQ1-7" in str(err[8])
        adt = listening.send(message("SIU_12.hl7"))
        assert msa(adt)[0] == "AR"
        assert str(adt.segment("ERR")[3]).startswith("200")
        nonsense = hl7.parse(send("127.0.0.1", listening.port, "hello, world").replace("\n", "\r"))
        assert msa(nonsense)[0] == "AR"
    finally:
        assert listening.stop()[0] == 0


def test_it_survives_junk_and_a_client_gone_mid_message(tmp_path, site):
    listening = Listening(tmp_path, site)
    try:
        with socket.create_connection(("127.0.0.1", listening.port)) as raw:
            raw.sendall(b"junk before any frame\x1c\r")
            raw.sendall(frame(message("SIU-S12-02.hl7"))[:200])  # and gone
        with socket.create_connection(("127.0.0.1", listening.port)) as raw:
            raw.sendall(b"\x0b\xff\xfe not utf-8\x1c\r")
            reader = FrameReader()
            answer = []
            while not answer:
                answer = reader.feed(raw.recv(65536))
            assert msa(hl7.parse(answer[0].decode().replace("\n", "\r")))[0] == "AR"
        ack = listening.send(message("SIU-S12-02.hl7"))
        assert msa(ack)[0] == "AA"
    finally:
        assert listening.stop()[0] == 0


def test_exactly_once_across_a_restart(tmp_path, site):
    out = tmp_path / "pdfs"
    listening = Listening(tmp_path, site, "--out-dir", out)
    first = listening.send(message("SIU-S12-02.hl7"))
    assert listening.stop()[0] == 0
    (pdf,) = out.glob("*.pdf")
    made = pdf.stat().st_mtime_ns
    listening.start()
    try:
        again = listening.send(message("SIU-S12-02.hl7"))
        assert str(again) == str(first)  # the same answer, and no second handout
        assert pdf.stat().st_mtime_ns == made
        # the older message of a booking after a newer one: rightly no handout
        newer = listening.send(message("SIU-S13-02.hl7"))
        assert msa(newer)[::2] == ("AA", "handout made")
        older = listening.send(message("SIU-S14-02.hl7", **{"MSG00014": "OLD-14"}))
        assert msa(older) == (
            "AA",
            "OLD-14",
            "no handout: a later revision of this booking was already made",
        )
    finally:
        assert listening.stop()[0] == 0


def burst(listening, count):
    template = message("SIU-S12-02.hl7")
    answers = []
    with socket.create_connection(("127.0.0.1", listening.port), timeout=600) as connection:
        reader = FrameReader()
        for number in range(count):
            text = template.replace("MSG00012", f"B{number}").replace("|36996|", f"|V{number}|")
            connection.sendall(frame(text))
        while len(answers) < count:
            data = connection.recv(65536)
            assert data, f"closed after {len(answers)} answers"
            answers += reader.feed(data)
    codes = [msa(hl7.parse(a.decode().replace("\n", "\r"))) for a in answers]
    assert [c[:2] for c in codes] == [("AA", f"B{n}") for n in range(count)]


def test_a_burst_of_messages(tmp_path, site):
    listening = Listening(tmp_path, site)
    try:
        burst(listening, 100)
    finally:
        assert listening.stop()[0] == 0


@pytest.mark.slow
def test_a_burst_of_a_thousand_messages(tmp_path, site):
    listening = Listening(tmp_path, site)
    try:
        started = time.monotonic()
        burst(listening, 1000)
        assert time.monotonic() - started < 1800
    finally:
        code, rest = listening.stop()
    assert code == 0 and "1000 messages answered" in rest


def test_the_site_profile_sets_the_address(tmp_path, site):
    site.write_text(site.read_text(encoding="utf-8") + "listen_address: 127.0.0.1:0\n", "utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "pars_docs", "listen", "--site", str(site), "--state",
         str(tmp_path / "s.sqlite")],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env=dict(os.environ, PARS_DOCS_CACHE=str(tmp_path / "cache")),
    )  # fmt: skip
    line = process.stderr.readline()
    process.send_signal(signal.SIGTERM)
    rest = process.stderr.read()
    assert process.wait(timeout=30) == 0
    assert "listening on 127.0.0.1:" in line and ":2575" not in line, line + rest
    assert "stopped; 0 messages answered" in rest
