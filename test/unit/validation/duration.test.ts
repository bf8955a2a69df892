import { checkExpiry, parseDuration, parseTimestamp, readExpiryRequest } from "../../../provider/validation/duration";
import { Failures, UNKNOWN } from "../../../provider/validation/fields";

describe("parseDuration", () => {
  test.each([
    [90, 90],
    ["90s", 90],
    ["5m", 300],
    ["1h30m", 5400],
    ["2d", 172800],
    ["1d2h3m4s", 93784],
    ["0h5s", 5],
  ])("%j is %d seconds", (value, seconds) => expect(parseDuration(value)).toBe(seconds));

  test.each([0, -5, 1.5, "", "0s", "90", "1m1h", "1h 30m", "1.5h", "5w", "h", " 5s", "5s ", "1h1h", null, true, [], {}])(
    "%j is refused with a reason",
    (value) => expect(typeof parseDuration(value)).toBe("string"),
  );

  test("more than 366 days is refused", () => {
    expect(typeof parseDuration("367d")).toBe("string");
    expect(parseDuration("366d")).toBe(366 * 86400);
  });
});

describe("parseTimestamp", () => {
  test("ISO 8601 with a zone", () => {
    expect(parseTimestamp("2030-01-31T18:00:00Z")).toEqual(new Date(Date.UTC(2030, 0, 31, 18)));
    expect(parseTimestamp("2030-01-31T19:00:00.5+01:00")).toEqual(new Date(Date.UTC(2030, 0, 31, 18, 0, 0, 500)));
  });
  test.each(["2030-01-31", "2030-01-31T18:00:00", "tomorrow", "2030-13-40T99:00:00Z", 1893456000])("%j is refused", (value) => {
    expect(typeof parseTimestamp(value)).toBe("string");
  });
});

describe("checkExpiry", () => {
  const failuresOf = (inputs: object) => {
    const f = new Failures();
    checkExpiry(f, inputs);
    return f.list;
  };
  test("both at once is a check error on expiresAfter", () => {
    expect(failuresOf({ expiresAfter: "1h", expiresAt: "2030-01-31T18:00:00Z" })).toEqual([
      { property: "expiresAfter", reason: "set expiresAfter or expiresAt, not both" },
    ]);
  });
  test("a bad value is named by its property", () => {
    expect(failuresOf({ expiresAfter: "soon" })[0].property).toBe("expiresAfter");
    expect(failuresOf({ expiresAt: "soon" })[0].property).toBe("expiresAt");
  });
  test("no clock in check: a past expiresAt passes here and is refused on the host at create", () => {
    expect(failuresOf({ expiresAt: "2000-01-01T00:00:00Z" })).toEqual([]);
  });
  test("unknown (preview) values pass", () => {
    expect(failuresOf({ expiresAfter: UNKNOWN, expiresAt: "2030-01-31T18:00:00Z" })).toEqual([]);
    expect(failuresOf({ expiresAt: UNKNOWN })).toEqual([]);
  });
});

test("readExpiryRequest", () => {
  expect(readExpiryRequest({})).toEqual({ kind: "none" });
  expect(readExpiryRequest({ expiresAfter: "1m" })).toEqual({ kind: "after", seconds: 60 });
  expect(readExpiryRequest({ expiresAt: "2030-01-31T18:00:00Z" })).toEqual({ kind: "at", unix: Date.UTC(2030, 0, 31, 18) / 1000 });
});
