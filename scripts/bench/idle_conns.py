#!/usr/bin/env python3
"""Opens many keep-alive client connections to one HTTP server and holds them idle.

Each connection sends one GET and reads the whole response, so what is held
afterwards is a real idle keep-alive connection (the server has parsed a request
on it and waits for the next one), not a half-open socket. At most --in-flight
connections are being set up at a time, so the server's accept queue never
overflows and no SYN has to be retried.

When all connections are held (or --open-timeout has passed) the client writes
"opened=N answered=M seconds=S" to --ready-file. It then waits until
--release-file exists (or --max-hold seconds have passed), counts how many
connections the server has not closed in the meantime, prints
"opened=N answered=M still_open=K" on stdout and exits.

Standard library only; raises its own open-files limit to the hard limit.
"""

import argparse
import os
import resource
import selectors
import socket
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/")
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--in-flight", type=int, default=200,
                   help="connections being opened at a time (default 200)")
    p.add_argument("--open-timeout", type=float, default=60.0,
                   help="seconds allowed to open and use all connections (default 60)")
    p.add_argument("--ready-file", required=True)
    p.add_argument("--release-file", required=True)
    p.add_argument("--max-hold", type=float, default=300.0,
                   help="seconds to hold at most when the release file never appears")
    return p.parse_args()


def raise_nofile(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = hard if hard == resource.RLIM_INFINITY else min(hard, max(needed, soft))
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def response_complete(buf):
    """True once buf holds one whole HTTP/1.1 response (Content-Length or chunked)."""
    head_end = buf.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    head = buf[:head_end].decode("latin-1").lower()
    body = buf[head_end + 4:]
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if name == "content-length":
            return len(body) >= int(value)
        if name == "transfer-encoding" and "chunked" in value:
            return body.endswith(b"0\r\n\r\n")
    return True  # no body framing: a 204/304 or a bodiless answer


def main():
    args = parse_args()
    limit = raise_nofile(args.count + 64)
    if limit < args.count + 64:
        print(f"idle_conns: open-files limit {limit} is below {args.count + 64}", file=sys.stderr)
        return 2

    request = (f"GET {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n"
               "User-Agent: fulcrum-bench-idle\r\n\r\n").encode("ascii")
    sel = selectors.DefaultSelector()
    held = []            # sockets that got their response and now sit idle
    pending = {}         # socket -> bytes received so far (None while connecting)
    started = 0
    failed = 0
    t0 = time.monotonic()
    deadline = t0 + args.open_timeout

    while (len(held) + failed < args.count) and time.monotonic() < deadline:
        while started < args.count and len(pending) < args.in_flight:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((args.host, args.port))
            pending[s] = None
            sel.register(s, selectors.EVENT_WRITE)
            started += 1
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            if pending[s] is None:  # connect finished: send the request
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    failed += 1
                    sel.unregister(s); s.close(); del pending[s]
                    continue
                s.sendall(request)
                pending[s] = b""
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                chunk = s.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                failed += 1
                sel.unregister(s); s.close(); del pending[s]
                continue
            pending[s] += chunk
            if response_complete(pending[s]):
                sel.unregister(s)
                del pending[s]
                held.append(s)

    seconds = time.monotonic() - t0
    for s in list(pending):
        sel.unregister(s); s.close()
    opened = len(held) + failed
    with open(args.ready_file + ".tmp", "w") as f:
        f.write(f"opened={len(held)} answered={len(held)} failed={failed} seconds={seconds:.1f}\n")
    os.rename(args.ready_file + ".tmp", args.ready_file)

    hold_until = time.monotonic() + args.max_hold
    while not os.path.exists(args.release_file) and time.monotonic() < hold_until:
        time.sleep(0.2)

    # A held connection that is readable now was closed by the server (or got
    # bytes it never asked for): either way it is no longer an idle keep-alive one.
    for s in held:
        sel.register(s, selectors.EVENT_READ)
    closed = len(sel.select(timeout=0)) if held else 0
    for s in held:
        s.close()
    print(f"opened={len(held)} answered={len(held)} failed={failed} still_open={len(held) - closed}"
          f" attempted={opened}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
