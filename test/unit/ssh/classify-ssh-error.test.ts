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
