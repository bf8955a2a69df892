import { coversEverything, isUnspecified, parseAddress, parseCidr, sameAddress, sameRange } from "../../../provider/validation/net";

describe("parseCidr", () => {
  test.each([
    ["198.51.100.0/24", "198.51.100.0", 24],
    ["198.51.100.7", "198.51.100.7", 32],
    ["2001:db8:100::/64", "2001:db8:100::", 64],
    ["::ffff:198.51.100.0/120", "198.51.100.0", 24],
  ])("%s parses", (text, address, len) => {
    const c = parseCidr(text);
    if (typeof c === "string") throw new Error(c);
    expect(c.address.toString()).toBe(address);
    expect(c.prefixLength).toBe(len);
  });

  test("host bits set are refused with the network meant", () => {
    expect(parseCidr("198.51.100.7/24")).toBe("host bits are set; did you mean 198.51.100.0/24?");
    expect(parseCidr("2001:db8::1/64")).toMatch(/did you mean 2001:db8::\/64/);
  });

  test.each(["198.51.100.0/33", "10.0.0.0/", "10.0.0.0/-1", "nonsense", "1.2.3", "0x0a.0.0.1", "fe80::1%eth0", "10.0.0.0/8/8"])(
    "%s is refused",
    (text) => {
      expect(typeof parseCidr(text)).toBe("string");
    },
  );

  test.each(["0.0.0.0/0", "::/0", "::ffff:0.0.0.0/96"])("%s covers everything", (text) => {
    const c = parseCidr(text);
    if (typeof c === "string") throw new Error(c);
    expect(coversEverything(c)).toBe(true);
  });
});

describe("addresses", () => {
  test.each(["0.0.0.0", "::", "0:0:0:0:0:0:0:0", "::ffff:0.0.0.0"])("%s is unspecified", (text) => {
    const a = parseAddress(text);
    if (typeof a === "string") throw new Error(a);
    expect(isUnspecified(a)).toBe(true);
  });

  test("odd IPv4 spellings are not addresses", () => {
    expect(typeof parseAddress("0")).toBe("string");
    expect(typeof parseAddress("017.0.0.1")).toBe("string");
  });

  test("compare parsed, not as strings", () => {
    expect(sameAddress("2001:db8:0:0::40", "2001:db8::40")).toBe(true);
    expect(sameAddress("198.51.100.40", "198.51.100.41")).toBe(false);
    expect(sameRange("198.51.100.40", "198.51.100.40/32")).toBe(true);
    expect(sameRange("198.51.100.0/24", "198.51.100.0/25")).toBe(false);
  });
});
