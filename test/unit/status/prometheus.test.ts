import { escapeLabelValue, renderPrometheus } from "../../../provider/status/prometheus";
import { buildStatus, type HostStatus } from "../../../provider/status/tunnel-status";
import { facts, FWD, RULE } from "./fixtures";

/**
 * The exposition format's grammar for the lines we write (Prometheus text format 0.0.4): a comment
 * (HELP or TYPE), or a sample: name, optional {label="escaped value",...}, a space, a number.
 */
const LABEL_VALUE = String.raw`"(?:[^"\\\n]|\\\\|\\"|\\n)*"`;
const SAMPLE = new RegExp(
  String.raw`^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE}(,[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE})*\})? -?\d+(\.\d+)?$`,
);
const COMMENT = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* \S.*$/;

function wellFormed(text: string): void {
  expect(text.endsWith("\n")).toBe(true);
  for (const line of text.slice(0, -1).split("\n")) expect(COMMENT.test(line) || SAMPLE.test(line) ? "ok" : line).toBe("ok");
}

describe("renderPrometheus", () => {
  test("one family each, with HELP and TYPE; labels tag, project, stack, resource; the gate labelled as its rule", () => {
    const text = renderPrometheus(buildStatus(facts(), {}));
    wellFormed(text);
    const labels = `{tag="${FWD}",project="demo",stack="dev",resource="web-forward"}`;
    expect(text).toContain(`# TYPE pst_tunnel_up gauge\npst_tunnel_up${labels} 1\n`);
    expect(text).toContain(`# TYPE pst_tunnel_restarts_total counter\npst_tunnel_restarts_total${labels} 2\n`);
    expect(text).toContain(`pst_tunnel_paused${labels} 0\n`);
    expect(text).toContain(`pst_tunnel_expiry_timestamp_seconds${labels} 1796565475\n`);
    expect(text).toContain(`pst_gate_in_place{tag="${RULE}",project="demo",stack="dev",resource="web-allow",backend="ufw"} 1\n`);
    expect(text).toContain("pst_guard_running 1\n");
    const rule = `{tag="${RULE}",project="demo",stack="dev",resource="web-allow",backend="ufw"}`;
    expect(text).toContain(`# TYPE pst_connections_accepted_total counter\npst_connections_accepted_total${rule} 3\n`);
    expect(text).toContain(`# TYPE pst_connections_dropped_total counter\npst_connections_dropped_total${rule} 5\n`);
    expect(text).toContain(`# TYPE pst_connections_lost_events_total counter\npst_connections_lost_events_total${rule} 1\n`);
    for (const name of ["pst_tunnel_up", "pst_gate_in_place", "pst_connections_accepted_total"])
      expect(text.split(`# TYPE ${name} `)).toHaveLength(2);
  });

  test("no guard: pst_gate_in_place has no sample (no verdict to give), pst_guard_running says 0", () => {
    const text = renderPrometheus(buildStatus(facts({ guard: undefined }), {}));
    wellFormed(text);
    expect(text).not.toMatch(/^pst_gate_in_place\{/m);
    expect(text).toContain("pst_guard_running 0\n");
  });

  test("hostile label text (quotes, backslashes, newlines, a fake sample) stays inside its value", () => {
    const hostile = 'x"} 1\npst_tunnel_up{tag="forged"} 1\n\\';
    const status: HostStatus = {
      checkedAt: "",
      guard: { running: true, pid: 1 },
      tunnels: [
        {
          tag: hostile,
          project: "p\\",
          stack: hostile,
          resource: '"',
          up: false,
          keeper: { state: "gone", restarts: 0 },
          gate: { tag: hostile, backend: hostile, inPlace: false, verdict: hostile },
        },
      ],
    };
    const text = renderPrometheus(status);
    wellFormed(text);
    expect(text).not.toMatch(/^pst_tunnel_up\{tag="forged"/m);
    expect(text.split("\n").filter((l) => l.startsWith("pst_tunnel_up{"))).toHaveLength(1);
  });

  test("escapeLabelValue: backslash, double quote and newline, as the format says", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });
});
