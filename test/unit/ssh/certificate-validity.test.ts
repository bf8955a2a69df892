import { certificateProblem, parseValidity } from "../../../provider/ssh/certificate-validity";

const listing = (valid: string) => `/tmp/c-cert.pub:
        Type: ssh-ed25519-cert-v01@openssh.com user certificate
        Public key: ED25519-CERT SHA256:abc
        Signing CA: ED25519 SHA256:def (using ssh-ed25519)
        Key ID: "gw"
        Serial: 0
        Valid: ${valid}
        Principals:
                gw
`;
const at = (iso: string) => Date.parse(iso) / 1000;

test.each([
  [
    "from 2020-01-01T00:00:00 to 2020-01-02T00:00:00",
    "2026-01-01T00:00:00Z",
    /has expired \(valid from 2020-01-01T00:00:00 to 2020-01-02T00:00:00 UTC; now is 2026-01-01T00:00:00 UTC/,
  ],
  ["from 2030-01-01T00:00:00 to 2031-01-02T00:00:00", "2026-01-01T00:00:00Z", /not valid yet \(valid from 2030/],
  ["after 2030-01-01T00:00:00", "2026-01-01T00:00:00Z", /not valid yet/],
  ["before 2020-01-01T00:00:00", "2026-01-01T00:00:00Z", /has expired/],
  ["from 2020-01-01T00:00:00 to 2020-01-02T00:00:00", "2020-01-02T00:00:00Z", /has expired/],
])("valid %s, now %s: refused", (valid, now, reason) => {
  expect(certificateProblem(listing(valid), at(now))).toMatch(reason);
});

test.each([
  ["forever", "2026-01-01T00:00:00Z"],
  ["from 2020-01-01T00:00:00 to 2030-01-02T00:00:00", "2026-01-01T00:00:00Z"],
  ["after 2020-01-01T00:00:00", "2026-01-01T00:00:00Z"],
])("valid %s, now %s: usable", (valid, now) => {
  expect(certificateProblem(listing(valid), at(now))).toBeUndefined();
});

test("a file ssh-keygen cannot read as a certificate is refused, with its message", () => {
  expect(certificateProblem("load failed\nssh-keygen-failed\n", 0)).toMatch(/not an OpenSSH certificate/);
  expect(certificateProblem("/k.pub:\n        Type: ssh-ed25519 public key\n", 0)).toMatch(/not an OpenSSH certificate/);
});

test("the window is read in UTC (the script runs ssh-keygen with TZ=UTC0)", () => {
  expect(parseValidity(listing("from 2020-01-01T00:00:00 to 2020-01-02T00:00:00"))).toEqual({
    from: at("2020-01-01T00:00:00Z"),
    to: at("2020-01-02T00:00:00Z"),
    text: "from 2020-01-01T00:00:00 to 2020-01-02T00:00:00",
  });
});
