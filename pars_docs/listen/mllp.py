"""MLLP framing (HL7 v2 minimal lower layer protocol): ``<VT> message <FS><CR>``."""

from __future__ import annotations

import socket

START, END = b"\x0b", b"\x1c\x0d"
MAX_FRAME = 16 << 20  # a message larger than this is refused, not buffered without end


def frame(message: str) -> bytes:
    """``message`` (segments ended by CR) in an MLLP frame."""
    return START + message.encode("utf-8") + END


class FrameReader:
    """Frames from a stream of bytes. Bytes outside a frame are counted as junk and dropped;
    a frame over :data:`MAX_FRAME` bytes is dropped whole."""

    def __init__(self) -> None:
        self.buffer = b""
        self.junk = 0

    def feed(self, data: bytes) -> list[bytes]:
        self.buffer += data
        frames = []
        while True:
            start = self.buffer.find(START)
            if start < 0:
                self.junk += len(self.buffer)
                self.buffer = b""
                break
            if start:
                self.junk += start
                self.buffer = self.buffer[start:]
            end = self.buffer.find(END, 1)
            if end < 0:
                if len(self.buffer) > MAX_FRAME:
                    self.junk += len(self.buffer)
                    self.buffer = b""
                break
            frames.append(self.buffer[1:end])
            self.buffer = self.buffer[end + len(END) :]
        return frames


def send(host: str, port: int, message: str, timeout: float = 30.0) -> str:
    """Send one message to an MLLP receiver and return its answer (the ACK)."""
    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.sendall(frame(message))
        reader = FrameReader()
        while True:
            data = connection.recv(65536)
            if not data:
                raise ConnectionError(f"{host}:{port} closed the connection without an answer")
            frames = reader.feed(data)
            if frames:
                return frames[0].decode("utf-8", errors="replace")
