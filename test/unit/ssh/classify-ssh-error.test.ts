import { classifySshError, isPreAuthDrop } from "../../../provider/ssh/classify-ssh-error";

const where = { gateway: "198.18.1.2:22", target: "127.0.0.1:8000", listen: "198.51.100.40:8080" };

// Real ssh (OpenSSH 9.2) messages for each failure.
test.each([
  ["Host key verification failed.", /does not match gateway.hostKey/],
  ["pstgw@198.18.1.2: Permission denied (publickey).", /refused the key/],
  ["channel 0: open failed: administratively prohibited: open failed", /AllowTcpForwarding is off/],
  ["channel 0: open failed: connect failed: Connection refused\nstdio forwarding failed", /127.0.0.1:8000 does not answer/],
  ["bind [198.51.100.40]:8080: Address already in use\nchannel_setup_fwd_listener_tcpip: cannot listen to port: 8080", /already in use/],
  ["bind [198.51.100.99]:8080: Cannot assign requested address", /not an address of the tunnel host/],
  ["ssh: connect to host 198.18.1.2 port 22: Connection timed out", /cannot be reached/],
  ["ssh: connect to host 198.18.1.2 port 22: Connection refused", /cannot be reached/],
])("%s", (stderr, cause) => {
  expect(classifySshError(stderr, where)?.cause).toMatch(cause);
});

test("unknown output is not guessed at", () => {
  expect(classifySshError("something new", where)).toBeUndefined();
});

test.each([
  ["kex_exchange_identification: read: Connection reset by peer", true],
  ["Connection reset by 198.18.1.2 port 22", true],
  ["Permission denied (publickey).", false],
  ["channel 0: open failed: connect failed: Connection refused", false],
])("a drop before the key exchange (%j) is retried: %s", (stderr, retried) => {
  expect(isPreAuthDrop(stderr)).toBe(retried);
});

describe("through jump hosts and to sockets", () => {
  const server = { name: "the jump host gateway.jumpHosts[1] (198.18.8.2:22)", property: "gateway.jumpHosts[1]", next: "the gateway 198.18.9.2:22" };
  test.each([
    ["Host key verification failed.", /jumpHosts\[1\] \(198.18.8.2:22\) offered a host key that does not match gateway.jumpHosts\[1\].hostKey/],
    ["jump@198.18.8.2: Permission denied (publickey).", /jumpHosts\[1\] \(198.18.8.2:22\) refused the key/],
    [
      "channel 0: open failed: connect failed: Connection refused\nstdio forwarding failed",
      /could not open a connection to the gateway 198.18.9.2:22/,
    ],
    ["channel 0: open failed: administratively prohibited: open failed", /could not open a connection to the gateway/],
    ["ssh: connect to host 198.18.8.2 port 22: Connection refused", /jumpHosts\[1\] \(198.18.8.2:22\) cannot be reached/],
  ])("a hop's log %j names the hop", (log, cause) => {
    expect(classifySshError(log, { ...where, server })?.cause).toMatch(cause);
  });
  test("a refused socket channel names the socket, not a TCP target", () => {
    expect(
      classifySshError("channel 1: open failed: connect failed: open failed", { ...where, target: "/run/app.sock", socketTarget: true })?.cause,
    ).toMatch(/did not connect to the socket \/run\/app.sock/);
  });
});
