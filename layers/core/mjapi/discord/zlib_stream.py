"""Gateway transport compression ``compress=zlib-stream``: one inflate context per connection.

Fact (Discord docs ``topics/gateway.md`` "Transport Compression"; protocol notes §2): the whole connection is one zlib
stream; binary frames are buffered until one ends with the ``00 00 ff ff`` flush suffix, then the buffer is inflated
with the connection's single ``decompressobj`` (its dictionary carries over between messages). A fresh connection
needs a fresh inflater (:meth:`ZlibStreamInflater.reset`).
"""

from __future__ import annotations

import zlib

ZLIB_SUFFIX = b"\x00\x00\xff\xff"
DEFAULT_MAX_BUFFER = 32 * 1024 * 1024  # refuse runaway buffers (a peer that never flushes) rather than grow forever
DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024  # refuse decompression bombs


class ZlibStreamError(ValueError):
    """The stream is corrupt or too large; the connection must be dropped (and the inflater reset)."""


class ZlibStreamInflater:
    """Feed binary frames; get one decoded JSON text per complete message."""

    def __init__(self, *, max_buffer: int = DEFAULT_MAX_BUFFER, max_message: int = DEFAULT_MAX_MESSAGE) -> None:
        self.max_buffer = max_buffer
        self.max_message = max_message
        self._buffer = bytearray()
        self._inflater = zlib.decompressobj()

    def reset(self) -> None:
        """Start over for a new connection."""
        self._buffer.clear()
        self._inflater = zlib.decompressobj()

    @property
    def pending(self) -> int:
        """Bytes buffered while waiting for the flush suffix."""
        return len(self._buffer)

    def feed(self, frame: bytes | bytearray | memoryview) -> str | None:
        """Add one binary frame; return the message text when it completes one, else ``None``.

        Raises :class:`ZlibStreamError` on corrupt data, invalid UTF-8, or size limits.
        """
        self._buffer += frame
        if len(self._buffer) > self.max_buffer:
            self._buffer.clear()
            raise ZlibStreamError(f"zlib-stream buffer exceeded {self.max_buffer} bytes without a flush")
        if len(self._buffer) < len(ZLIB_SUFFIX) or not self._buffer.endswith(ZLIB_SUFFIX):
            return None
        data = bytes(self._buffer)
        self._buffer.clear()
        try:
            inflated = self._inflater.decompress(data, self.max_message)
        except zlib.error as exc:
            raise ZlibStreamError(f"corrupt zlib-stream data: {exc}") from exc
        if self._inflater.unconsumed_tail:
            raise ZlibStreamError(f"zlib-stream message larger than {self.max_message} bytes")
        try:
            return inflated.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ZlibStreamError(f"zlib-stream message is not UTF-8: {exc}") from exc


def decode_frame(frame: str | bytes | bytearray | memoryview, inflater: ZlibStreamInflater | None) -> str | None:
    """Text of one websocket frame: text frames as they are, binary frames through ``inflater`` (or UTF-8)."""
    if isinstance(frame, str):
        return frame
    if inflater is not None:
        return inflater.feed(frame)
    try:
        return bytes(frame).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ZlibStreamError(f"binary frame is not UTF-8 and no zlib-stream inflater is set: {exc}") from exc
