import { parseTag } from "../tag";
import type { HostStatus, TunnelStatus } from "./tunnel-status";

/**
 * `status --prometheus`: node_exporter's textfile format (the Prometheus text exposition format,
 * version 0.0.4). Label values are escaped as that format says (backslash, double quote, newline),
 * so no text read from a host (a tag, a stack, a backend) can end a value or start a sample.
 */

type Labels = Record<string, string>;
interface Family {
  name: string;
  type: "gauge" | "counter";
  help: string;
  samples: { labels: Labels; value: number }[];
}

/**
 * A label value as the exposition format writes it.
 * @internal exported for its unit tests
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelsOf(t: Pick<TunnelStatus, "tag" | "project" | "stack" | "resource">): Labels {
  return { tag: t.tag, project: t.project, stack: t.stack, resource: t.resource };
}

/** The families, each once, with a sample per tunnel (per gate for pst_gate_in_place and the connection counts) where it has a value. */
function families(status: HostStatus): Family[] {
  const forwards = status.tunnels.filter((t) => t.keeper !== undefined);
  const family = (name: string, type: Family["type"], help: string, samples: Family["samples"]): Family => ({ name, type, help, samples });
  const gates = new Map<string, { labels: Labels; value: number }>();
  const accepted = new Map<string, { labels: Labels; value: number }>();
  const dropped = new Map<string, { labels: Labels; value: number }>();
  const lost = new Map<string, { labels: Labels; value: number }>();
  for (const t of status.tunnels) {
    const g = t.gate;
    if (!g) continue;
    // Labelled as the rule itself: a GatedTunnel's rule is "<name>-allow", its forward "<name>-forward".
    const labels = { ...labelsOf(parseTag(g.tag) ?? { ...t, tag: g.tag }), backend: g.backend ?? "" };
    if (g.inPlace !== undefined) gates.set(g.tag, { labels, value: g.inPlace ? 1 : 0 });
    if (g.connections) {
      accepted.set(g.tag, { labels, value: g.connections.accepted });
      dropped.set(g.tag, { labels, value: g.connections.dropped });
      lost.set(g.tag, { labels, value: g.connections.lostEvents });
    }
  }
  return [
    family(
      "pst_tunnel_up",
      "gauge",
      "1 while the tunnel's keeper runs and its ssh listens.",
      forwards.map((t) => ({ labels: labelsOf(t), value: t.up ? 1 : 0 })),
    ),
    family(
      "pst_tunnel_restarts_total",
      "counter",
      "Restarts of the tunnel's ssh by its keeper (back to 0 with a new keeper).",
      forwards.map((t) => ({ labels: labelsOf(t), value: t.keeper!.restarts })),
    ),
    family(
      "pst_tunnel_paused",
      "gauge",
      "1 while the guard holds the tunnel's forward paused because its gate failed.",
      forwards.map((t) => ({ labels: labelsOf(t), value: t.keeper!.pausedBy !== undefined ? 1 : 0 })),
    ),
    family(
      "pst_tunnel_expiry_timestamp_seconds",
      "gauge",
      "When the tunnel (or its gate) expires, unix seconds.",
      status.tunnels.flatMap((t) => (t.expiry ? [{ labels: labelsOf(t), value: t.expiry.unix }] : [])),
    ),
    family("pst_gate_in_place", "gauge", "1 while the running guard judges the gate in place; absent while no guard runs.", [...gates.values()]),
    family(
      "pst_connections_accepted_total",
      "counter",
      "Connection attempts (TCP SYNs, a retransmission counted once) the gate let in, since its rule was made.",
      [...accepted.values()],
    ),
    family(
      "pst_connections_dropped_total",
      "counter",
      "Connection attempts to the gate's address and port from sources no rule of ours trusts, since its rule was made.",
      [...dropped.values()],
    ),
    family(
      "pst_connections_lost_events_total",
      "counter",
      "Connections the gate let in whose record the host does not hold: not recorded (its record sets were full), or replaced by a new connection from the same client port; the counts above still hold them.",
      [...lost.values()],
    ),
    family("pst_guard_running", "gauge", "1 while the host's guard runs.", [{ labels: {}, value: status.guard.running ? 1 : 0 }]),
  ];
}

/** The whole textfile: HELP and TYPE once per family, then its samples; ends with a newline. */
export function renderPrometheus(status: HostStatus): string {
  const lines: string[] = [];
  for (const f of families(status)) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
      lines.push(`${f.name}${labels.length > 0 ? `{${labels.join(",")}}` : ""} ${s.value}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
