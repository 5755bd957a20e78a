"""The calls the TCP layer makes on a Twisted transport, named as typing Protocols.

Twisted types ``Protocol.transport`` as a bare ``ITransport``; the transports a TCP connection runs
on (a TCP socket, ``StringTransport`` and ``iosim.FakeTransport`` in tests) offer more: aborting,
pausing reads, pull producers. These Protocols say exactly which of those calls the framing layer
and the connection rely on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from twisted.internet.interfaces import IAddress, IPullProducer


class ProducerConsumer(Protocol):
    """What an outgoing stream uses: it registers itself on the transport as a pull producer."""

    def registerProducer(self, producer: IPullProducer, streaming: bool) -> None: ...

    def unregisterProducer(self) -> None: ...


class Wire(ProducerConsumer, Protocol):
    """What the framing layer and the connection use of their transport."""

    def write(self, data: bytes, /) -> None: ...

    def writeSequence(self, data: list[bytes], /) -> None: ...

    def loseConnection(self) -> None: ...

    def abortConnection(self) -> None: ...

    def pauseProducing(self) -> None: ...

    def resumeProducing(self) -> None: ...

    def getPeer(self) -> IAddress: ...


@runtime_checkable
class StreamConsumer(Protocol):
    """Where an incoming stream's chunks go (a file, an assembly), if not a plain callable."""

    def write(self, data: bytes, /) -> object: ...
