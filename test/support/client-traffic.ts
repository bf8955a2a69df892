/**
 * Clients for traffic tests, as argv to run in a lab namespace (inNs). Both run with python3 -I:
 * never the caller's directory on its path.
 */

/**
 * `n` non-blocking connects at once to host:port, each given 2.5 s to complete (a dropped one sends
 * its SYN again after 1 s), then all closed. Prints how many got in.
 */
const BURST = [
  "import select, socket, sys, time",
  "host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])",
  "socks = [socket.socket() for _ in range(n)]",
  "for s in socks: s.setblocking(False); s.connect_ex((host, port))",
  "end = time.monotonic() + 2.5",
  "pending, done = set(socks), 0",
  "while pending and time.monotonic() < end:",
  "    _, ready, _ = select.select([], list(pending), [], max(0, end - time.monotonic()))",
  "    for s in ready:",
  "        pending.discard(s)",
  "        done += s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0",
  "print('connected %d of %d' % (done, n))",
].join("\n");

export function burstArgv(host: string, port: string | number, n: number): string[] {
  return ["python3", "-I", "-c", BURST, host, String(port), String(n)];
}

/**
 * `n` HTTP/1.0 requests one after another, each with a header of `pad` bytes, each read to the
 * server's close; with `holdSeconds`, each connection first says "open <port>" and waits that long
 * before its request; with `fromPort`, every connection is made from that client port (one after
 * another, as a client that reuses its ports does). Prints "<client port> <bytes sent> <bytes
 * received>" per connection.
 */
const REQUESTS = [
  "import socket, sys, time",
  "host, port, n, pad, hold, bind = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])",
  "for _ in range(n):",
  "    s = socket.socket()",
  "    s.settimeout(10)",
  "    if bind: s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('', bind))",
  "    s.connect((host, port))",
  "    sport = s.getsockname()[1]",
  "    if hold: print('open %d' % sport, flush=True); time.sleep(hold)",
  "    req = ('GET / HTTP/1.0\\r\\nHost: t\\r\\nX-Pad: %s\\r\\n\\r\\n' % ('a' * pad)).encode()",
  "    s.sendall(req)",
  "    got = 0",
  "    while True:",
  "        b = s.recv(65536)",
  "        if not b: break",
  "        got += len(b)",
  "    s.close()",
  "    print('%d %d %d' % (sport, len(req), got), flush=True)",
].join("\n");

export function requestsArgv(host: string, port: string | number, n: number, pad: number, holdSeconds = 0, fromPort = 0): string[] {
  return ["python3", "-I", "-c", REQUESTS, host, String(port), String(n), String(pad), String(holdSeconds), String(fromPort)];
}

/** One line of requestsArgv's output. */
export interface SentConnection {
  port: number;
  sent: number;
  received: number;
}

export function parseRequests(stdout: string): SentConnection[] {
  return stdout
    .split("\n")
    .filter((l) => /^\d+ \d+ \d+$/.test(l))
    .map((l) => {
      const [port, sent, received] = l.split(" ").map(Number);
      return { port, sent, received };
    });
}

/**
 * `n` connects one after another from client port `fromPort`, each given 2.5 s (a dropped one
 * sends its SYN again after 1 s), as a client that reuses its port for a destination that never
 * answered does. Prints how many got in.
 */
const TRIES_FROM = [
  "import socket, sys",
  "host, port, n, bind = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])",
  "got = 0",
  "for _ in range(n):",
  "    s = socket.socket()",
  "    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
  "    s.bind(('', bind))",
  "    s.settimeout(2.5)",
  "    got += s.connect_ex((host, port)) == 0",
  "    s.close()",
  "print('connected %d of %d' % (got, n))",
].join("\n");

export function triesFromArgv(host: string, port: string | number, n: number, fromPort: number): string[] {
  return ["python3", "-I", "-c", TRIES_FROM, host, String(port), String(n), String(fromPort)];
}
