import { summarize, TOP_SOURCES } from "../../../provider/firewall/connection-summary";

describe("summarize", () => {
  test("totals, the latest source in, and the top sources, most first, ties in address order", () => {
    const at = (s: number) => new Date(Date.UTC(2026, 11, 6, 16, 0, s));
    expect(
      summarize({
        accepted: [
          { source: "198.51.100.7", attempts: 3, lastAt: at(10) },
          { source: "198.51.100.8", attempts: 1, lastAt: at(20) },
        ],
        dropped: [
          { source: "203.0.113.9", attempts: 2 },
          { source: "203.0.113.1", attempts: 2 },
          { source: "2001:db8::1", attempts: 5 },
        ],
        records: { records: [], lostEvents: 3 },
      }),
    ).toEqual({
      accepted: 4,
      dropped: 9,
      lastAccepted: { source: "198.51.100.8", at: "2026-12-06T16:00:20.000Z" },
      topAccepted: [
        { source: "198.51.100.7", attempts: 3 },
        { source: "198.51.100.8", attempts: 1 },
      ],
      topDropped: [
        { source: "2001:db8::1", attempts: 5 },
        { source: "203.0.113.1", attempts: 2 },
        { source: "203.0.113.9", attempts: 2 },
      ],
      lostEvents: 3,
    });
  });
  test("nothing counted yet: zeros, no last source", () => {
    expect(summarize(undefined)).toEqual({ accepted: 0, dropped: 0, topAccepted: [], topDropped: [], lostEvents: 0 });
  });
  test(`at most ${TOP_SOURCES} sources listed; the totals count them all`, () => {
    const many = Array.from({ length: 25 }, (_, i) => ({ source: `203.0.113.${i}`, attempts: 1 }));
    const s = summarize({ accepted: [], dropped: many });
    expect(s.dropped).toBe(25);
    expect(s.topDropped).toHaveLength(TOP_SOURCES);
  });
});
