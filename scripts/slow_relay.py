#!/usr/bin/env python3
"""A loopback SMTP relay that takes a fixed time per message, for
scripts/bench-scale: with it the relay, not mailroom, is the bottleneck,
so N senders should deliver N times as fast.

It answers every command at once except the end of DATA, which it answers
DELAY_MS after the message arrived (every connection independently, as a
real relay's queue would). It appends each accepted message's recipient to
LOG, one line each, so the bench can count who got what.

usage: slow_relay.py PORT DELAY_MS LOG
"""
import asyncio
import sys


async def session(reader, writer, delay, log):
    writer.write(b"220 slow-relay ESMTP\r\n")
    rcpt = b""
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-slow-relay\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
            elif verb == b"RCPT":
                rcpt = line[8:].strip().strip(b"<>")
                writer.write(b"250 2.1.5 ok\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                await reader.readuntil(b"\r\n.\r\n")
                await asyncio.sleep(delay)
                log.write(rcpt + b"\n")
                writer.write(b"250 2.0.0 queued\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 2.0.0 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 2.0.0 ok\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main():
    port, delay, path = int(sys.argv[1]), int(sys.argv[2]) / 1000.0, sys.argv[3]
    with open(path, "ab", buffering=0) as log:
        server = await asyncio.start_server(
            lambda r, w: session(r, w, delay, log),
            "127.0.0.1",
            port,
            limit=1 << 24,
            backlog=512,
        )
        async with server:
            await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
