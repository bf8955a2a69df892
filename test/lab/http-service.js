// Stand-in for the "internal service" behind the gateway in the namespace lab (test/lab/lab.sh).
// Answers every request with the fixed body `internal service reached` (no trailing newline, so
// tests can compare it exactly). Listens on 127.0.0.1 and, when the kernel has IPv6, on ::1.
// Usage: node http-service.js [port=8000 | /path/to.sock] [pid-file]
// With a path, it listens on that Unix socket only (mode 0666: the gateway's users connect to it).
// The pid file is written only once every listener is bound, so its presence means "ready".
"use strict";
const http = require("node:http");
const fs = require("node:fs");

const socketPath = (process.argv[2] || "").startsWith("/") ? process.argv[2] : undefined;
const port = socketPath ? 0 : Number(process.argv[2] || 8000);
const pidFile = process.argv[3];
const body = "internal service reached";

const handler = (req, res) => {
  req.resume(); // drain any request body so keep-alive connections stay usable
  res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(body) });
  res.end(body);
};

const listen = (host) =>
  new Promise((resolve, reject) => {
    const server = http.createServer(handler);
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });

const listenSocket = (path) =>
  new Promise((resolve, reject) => {
    try {
      fs.unlinkSync(path);
    } catch (err) {
      if (err.code !== "ENOENT") return reject(err);
    }
    const server = http.createServer(handler);
    server.once("error", reject);
    server.listen(path, () => {
      fs.chmodSync(path, 0o666);
      resolve(server);
    });
  });

(async () => {
  if (socketPath) {
    await listenSocket(socketPath);
    if (pidFile) fs.writeFileSync(pidFile, `${process.pid}\n`);
    console.error(`http-service ${process.pid} listening on ${socketPath}`);
    return;
  }
  await listen("127.0.0.1");
  // IPv6 loopback is optional: a namespace without IPv6 must not stop the IPv4 service.
  await listen("::1").catch((err) => console.error(`no [::1]:${port} listener: ${err.message}`));
  if (pidFile) fs.writeFileSync(pidFile, `${process.pid}\n`);
  console.error(`http-service ${process.pid} listening on port ${port}`);
})().catch((err) => {
  console.error(`http-service failed: ${err.message}`);
  process.exit(1);
});

for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(sig, () => process.exit(0));
