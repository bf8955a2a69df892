import { groupIntoUnits, unitWanted, type UnitMember } from "../../../provider/reap/units";
import { parseTag } from "../../../provider/tag";

const T0 = 1_795_617_800;
const tag = (resource: string, at: number, stack = "ci-1", identity = "3f9a1c0e7b42") => parseTag(`pst.demo.${stack}.${resource}.${identity}.${at}`)!;
const member = (kind: UnitMember["kind"], t: ReturnType<typeof tag>): UnitMember => ({ kind, tag: t });

// A GatedTunnel whose forward was replaced alone (keepAliveSeconds): the rule is 10 minutes older.
const rule = tag("svc-allow", T0, "ci-1", "a81d5e30c9f6");
const forward = tag("svc-forward", T0 + 600);
const gated = [member("rule", rule), member("watchdog", rule), member("keeper", forward), member("forward", forward)];
const pairing = { forwardTag: forward.tag, ruleTag: rule.tag };

describe("groupIntoUnits", () => {
  test("a rule and the forward its pairing file names are one unit, timed by its newest member", () => {
    const units = groupIntoUnits(gated, [pairing]);
    expect(units).toHaveLength(1);
    expect(units[0].members).toHaveLength(4);
    expect(units[0].newestUnix).toBe(T0 + 600);
  });

  test("a user's own pairing (any names) joins them too; without one, unrelated names stay apart", () => {
    const r = tag("my-rule", T0, "ci-1", "a81d5e30c9f6");
    const f = tag("my-forward", T0 + 5);
    const members = [member("rule", r), member("keeper", f), member("forward", f)];
    expect(groupIntoUnits(members, [])).toHaveLength(2);
    expect(groupIntoUnits(members, [{ forwardTag: f.tag, ruleTag: r.tag }])).toHaveLength(1);
  });

  test("rules made before pairings existed join their GatedTunnel's forward by name, within one project and stack", () => {
    expect(groupIntoUnits(gated, [])).toHaveLength(1);
    const elsewhere = tag("svc-forward", T0 + 600, "ci-2");
    expect(groupIntoUnits([member("rule", rule), member("keeper", elsewhere)], [])).toHaveLength(2);
  });

  test("an orphan of a killed create (another tag of the same forward) joins the unit of the rule it was paired with", () => {
    const orphan = tag("svc-forward", T0 + 300);
    const units = groupIntoUnits([...gated, member("keeper", orphan)], [pairing, { forwardTag: orphan.tag, ruleTag: rule.tag }]);
    expect(units).toHaveLength(1);
  });

  test("a pairing naming a rule that is gone leaves the forward a unit of its own", () => {
    const units = groupIntoUnits([member("keeper", forward), member("forward", forward)], [pairing]);
    expect(units).toEqual([{ members: [member("keeper", forward), member("forward", forward)], newestUnix: T0 + 600 }]);
  });
});

describe("unitWanted", () => {
  const [unit] = groupIntoUnits(gated, [pairing]);
  const now = T0 + 660;

  test("--older-than judges the unit by its newest member: kept whole while its forward is young", () => {
    // The rule alone is 11 minutes old, the forward 1 minute: a 5-minute cut keeps both.
    expect(unitWanted(unit, { olderThanSeconds: 300 }, now)).toBe(false);
    expect(unitWanted(unit, { olderThanSeconds: 60 }, now)).toBe(true);
  });

  test("--stack selects a unit by its members' stack (cleaned the way tags spell it)", () => {
    expect(unitWanted(unit, { stack: "ci-1" }, now)).toBe(true);
    expect(unitWanted(unit, { stack: "ci-2" }, now)).toBe(false);
    expect(unitWanted(unit, {}, now)).toBe(true);
  });
});
