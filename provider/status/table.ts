import { printable } from "../errors";
import type { HostStatus, TunnelStatus } from "./tunnel-status";

/**
 * `status` for people: one line per tunnel (stack, resource, listener, keeper, gate, connections, expiry),
 * then, indented below it, its tags and whatever needs a sentence (why it is paused, the last
 * error), so the columns stay short. The guard's line closes the table.
 */
export function formatStatusTable(status: HostStatus): string {
  const guard = status.guard.running ? `guard: pid ${status.guard.pid} (${status.guard.mode ?? "no status yet"})` : "guard: not running";
  if (status.tunnels.length === 0) return `nothing of ours found\n${guard}\n`;
  const header = ["STACK", "RESOURCE", "UP", "LISTENER", "KEEPER", "GATE", "CONNECTIONS", "EXPIRES"];
  const rows = status.tunnels.map((t) => [
    t.stack,
    t.resource,
    t.keeper ? (t.up ? "yes" : "NO") : "-",
    listener(t),
    keeper(t),
    gate(t),
    connections(t),
    expiry(t),
  ]);
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(width[i])))
      .join("  ")
      .trimEnd();
  const out = [line(header)];
  status.tunnels.forEach((t, i) => out.push(line(rows[i]), ...details(t, status.guard.running).map((d) => `  ${d}`)));
  return `${out.join("\n")}\n${guard}\n`;
}

function listener(t: TunnelStatus): string {
  const l = t.listener;
  if (!l) return "-";
  if (l.listening) return `pid ${l.pid} on ${l.at}`;
  return l.pid === undefined ? "none" : `pid ${l.pid}, not listening`;
}

function keeper(t: TunnelStatus): string {
  const k = t.keeper;
  if (!k) return "-";
  const restarts = `${k.restarts} restart${k.restarts === 1 ? "" : "s"}`;
  const state = k.state === "backoff" ? "backing off" : k.state;
  return k.pid === undefined ? `${state}, ${restarts}` : `pid ${k.pid} ${state}, ${restarts}`;
}

function gate(t: TunnelStatus): string {
  const g = t.gate;
  if (!g) return "-";
  const judged = g.inPlace === undefined ? "not judged" : g.inPlace ? "in place" : "NOT in place";
  return `${g.backend ?? "?"}: ${judged}`;
}

function connections(t: TunnelStatus): string {
  const c = t.gate?.connections;
  return c ? `${c.accepted} in, ${c.dropped} dropped` : "-";
}

function expiry(t: TunnelStatus): string {
  if (!t.expiry) return "-";
  return `${t.expiry.at}${t.expiry.watchdogRunning ? "" : " (no watchdog)"}`;
}

/** The lines below a tunnel's row: its tags, and the sentences the columns have no room for. */
function details(t: TunnelStatus, guardRunning: boolean): string[] {
  const out = [`tag ${t.tag}${t.gate && t.gate.tag !== t.tag ? `, gate ${t.gate.tag}` : ""}`];
  if (t.keeper?.pausedBy) out.push(`paused by the guard: ${t.keeper.pausedBy}`);
  else if (t.keeper?.lastError) out.push(`last error: ${t.keeper.lastError}`);
  if (t.gate?.inPlace === false && t.gate.verdict !== t.keeper?.pausedBy) out.push(`gate: ${t.gate.verdict}`);
  const last = t.gate?.connections?.lastAccepted;
  if (last) out.push(`last in: ${last.source} at ${last.at}`);
  // A guard that runs and has no verdict yet: the gate was recorded after its last look.
  if (t.gate && t.gate.inPlace === undefined)
    out.push(guardRunning ? "gate: the guard has not judged it yet" : "gate: no guard is running to judge it");
  // Pause reasons, ssh's last words and verdicts are host text: shown, never obeyed by the terminal.
  return out.map(printable);
}
