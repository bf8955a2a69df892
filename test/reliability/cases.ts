/**
 * The table: every string input of SharedTunnel, FirewallAllow and GatedTunnel (whose tunnel part
 * is a SharedTunnel and whose rule is a FirewallAllow), how to put a payload into it, which
 * provider's check judges it, and what "inert" has to mean for it when the check lets it through.
 */
import type { FirewallInputs, TunnelInputs } from "../../provider/types";
import {
  expectInertTag,
  expectInertTunnelArgv,
  expectInertUfwArgv,
  expectLocalPath,
  expectPinnedKey,
  expectPlainHost,
  expectPlainUser,
} from "./inert-checks";
import { BASE, GOOD_CONNECTION, GOOD_FIREWALL, GOOD_TUNNEL, KEY, NON_STRINGS, VALID } from "./payloads";

export type Kind = "tunnel" | "firewall";
type Inputs = Record<string, unknown>;

export interface Case {
  /** Row name in the summary. */
  input: string;
  /** The property a refusal must name, exactly. */
  property: string;
  kinds: Kind[];
  payloads: readonly unknown[];
  build(payload: unknown, kind: Kind): Inputs;
  inert(payload: unknown, built: Inputs, kind: Kind): void;
}

const all = (...extra: (readonly unknown[])[]) => [...BASE, ...extra.flat(), ...NON_STRINGS];
/** A key line with the payload as its trailing comment, beside the payload on its own. */
const keyPayloads = all(BASE.map((p) => `${KEY} ${p}`));

const tunnelWith =
  (patch: (t: TunnelInputs, p: unknown) => object) =>
  (p: unknown): Inputs => ({ ...GOOD_TUNNEL, ...patch(GOOD_TUNNEL, p) });
const gateway = (field: string) => tunnelWith((t, p) => ({ gateway: { ...t.gateway, [field]: p } }));
const firewall = (patch: object): Inputs => ({ ...GOOD_FIREWALL, ...patch });
const connection =
  (field: string) =>
  (p: unknown, kind: Kind): Inputs => {
    const c = { connection: { ...GOOD_CONNECTION, [field]: p } };
    return kind === "tunnel" ? { ...GOOD_TUNNEL, ...c } : firewall(c);
  };
/** GatedTunnel passes one connection to both resources, so both providers must judge it alike. */
const both: Kind[] = ["tunnel", "firewall"];

const tunnelArgv = (_p: unknown, built: Inputs) => expectInertTunnelArgv(built as unknown as TunnelInputs);
const ufwArgv = (_p: unknown, built: Inputs) => expectInertUfwArgv(built as unknown as FirewallInputs);

export const CASES: Case[] = [
  {
    input: "connection.host",
    property: "connection.host",
    kinds: both,
    payloads: all(VALID.host),
    build: connection("host"),
    inert: (p) => expectPlainHost(p),
  },
  {
    input: "connection.user",
    property: "connection.user",
    kinds: both,
    payloads: all(VALID.user),
    build: connection("user"),
    inert: (p) => expectPlainUser(p),
  },
  {
    input: "connection.hostKey",
    property: "connection.hostKey",
    kinds: both,
    payloads: keyPayloads,
    build: connection("hostKey"),
    inert: (p) => expectPinnedKey(p),
  },
  {
    input: "connection.privateKeyPath",
    property: "connection.privateKeyPath",
    kinds: both,
    payloads: all(VALID.path),
    build: connection("privateKeyPath"),
    inert: (p) => expectLocalPath(p),
  },
  {
    input: "gateway.host",
    property: "gateway.host",
    kinds: ["tunnel"],
    payloads: all(VALID.host),
    build: gateway("host"),
    inert: (p, b) => {
      expectPlainHost(p);
      tunnelArgv(p, b);
    },
  },
  {
    input: "gateway.user",
    property: "gateway.user",
    kinds: ["tunnel"],
    payloads: all(VALID.user),
    build: gateway("user"),
    inert: (p, b) => {
      expectPlainUser(p);
      tunnelArgv(p, b);
    },
  },
  {
    input: "gateway.hostKey",
    property: "gateway.hostKey",
    kinds: ["tunnel"],
    payloads: keyPayloads,
    build: gateway("hostKey"),
    inert: (p) => expectPinnedKey(p),
  },
  {
    input: "gateway.privateKeyPath",
    property: "gateway.privateKeyPath",
    kinds: ["tunnel"],
    payloads: all(VALID.path),
    build: gateway("privateKeyPath"),
    inert: tunnelArgv,
  },
  {
    input: "bindAddress",
    property: "bindAddress",
    kinds: ["tunnel"],
    payloads: all(VALID.address),
    build: tunnelWith((_t, p) => ({ bindAddress: p })),
    inert: tunnelArgv,
  },
  {
    input: "targetHost",
    property: "targetHost",
    kinds: ["tunnel"],
    payloads: all(VALID.host),
    build: tunnelWith((_t, p) => ({ targetHost: p })),
    inert: (p, b) => {
      expectPlainHost(p);
      tunnelArgv(p, b);
    },
  },
  // The payload goes second, behind a good source, so the refusal must name the right index.
  {
    input: "sources[i]",
    property: "sources[1]",
    kinds: ["firewall"],
    payloads: all(VALID.source),
    build: (p) => firewall({ sources: [GOOD_FIREWALL.sources[0], p] }),
    inert: ufwArgv,
  },
  {
    input: "destination",
    property: "destination",
    kinds: ["firewall"],
    payloads: all(VALID.address),
    build: (p) => firewall({ destination: p }),
    inert: ufwArgv,
  },
  {
    input: "protocol",
    property: "protocol",
    kinds: ["firewall"],
    payloads: all(VALID.protocol),
    build: (p) => firewall({ protocol: p }),
    inert: (p, b) => {
      expect(["tcp", "udp"]).toContain(p);
      ufwArgv(p, b);
    },
  },
  // FirewallAllowArgs.backend's documented values; anything else must not reach openBackend.
  {
    input: "backend",
    property: "backend",
    kinds: ["firewall"],
    payloads: all(VALID.backend),
    build: (p) => firewall({ backend: p }),
    inert: (p) => expect(["auto", "ufw", "nftables", "iptables"]).toContain(p),
  },
  {
    // Resource names are free text in Pulumi, so nothing refuses them: the tag must neutralize them.
    input: "name (owner -> tag)",
    property: "owner",
    kinds: both,
    payloads: [...BASE, ...VALID.name],
    build: (p, kind) => {
      const owner = `shared-tunnel-demo/rel/${p as string}`;
      return kind === "tunnel" ? { ...GOOD_TUNNEL, owner } : firewall({ owner });
    },
    inert: (_p, b, kind) => {
      expectInertTag(b.owner as string);
      if (kind === "tunnel") tunnelArgv(_p, b);
      else ufwArgv(_p, b);
    },
  },
];
