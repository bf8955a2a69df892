import { readFileSync } from "node:fs";
import * as path from "node:path";
import { generateSchema } from "../../../scripts/gen-schema";

/*
 * The schema the plugin serves is generated from provider/types.ts by the build: the shipped one
 * must be what the sources say now, and say it the way every language's SDK needs.
 */
const ROOT = path.resolve(__dirname, "../../../..");
const shipped = JSON.parse(readFileSync(path.join(ROOT, "dist/provider/plugin/schema.json"), "utf8")) as Schema;
const fresh = generateSchema(ROOT) as unknown as Schema;

interface Property {
  type?: string;
  oneOf?: Property[];
  secret?: boolean;
  $ref?: string;
}
interface Schema {
  name: string;
  version: string;
  resources: Record<
    string,
    { isComponent?: boolean; inputProperties: Record<string, Property>; properties: Record<string, Property>; requiredInputs?: string[] }
  >;
  types: Record<string, { properties: Record<string, Property> }>;
}

const resource = (name: string) => fresh.resources[`shared-tunnel:index:${name}`];

test("the shipped schema is the one the sources generate", () => {
  expect(shipped).toEqual(fresh);
  expect(fresh.version).toBe((JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version);
});

test("three resources, GatedTunnel a component", () => {
  expect(Object.keys(fresh.resources).sort()).toEqual(["FirewallAllow", "GatedTunnel", "SharedTunnel"].map((n) => `shared-tunnel:index:${n}`));
  expect(resource("GatedTunnel").isComponent).toBe(true);
  expect(resource("GatedTunnel").requiredInputs?.sort()).toEqual(["bindAddress", "bindPort", "gateway", "sources"]);
});

test("internal fields stay out", () => {
  // Set by the resource classes or the plugin, or kept for the lifecycles' own diff: never a user's.
  const internal = /^(owner|identity|progressUrn|preflightFor|gatesForwardsOf|requested\w+|\w+StartTicks)$/;
  const everywhere = Object.values(fresh.resources).flatMap((r) => [...Object.keys(r.inputProperties), ...Object.keys(r.properties)]);
  expect(everywhere.filter((k) => internal.test(k))).toEqual([]);
  expect(Object.keys(resource("GatedTunnel").inputProperties)).not.toContain("gateTag");
});

test("unions are oneOf, ports integers, keys and passphrases secret", () => {
  expect(resource("SharedTunnel").inputProperties.expiresAfter.oneOf).toEqual([{ type: "string" }, { type: "number" }]);
  expect(fresh.types["shared-tunnel:index:Connection"].properties.agent.oneOf).toEqual([{ type: "string" }, { type: "boolean" }]);
  for (const port of [
    resource("SharedTunnel").inputProperties.bindPort,
    resource("SharedTunnel").inputProperties.targetPort,
    resource("FirewallAllow").inputProperties.port,
  ])
    expect(port.type).toBe("integer");
  for (const type of Object.values(fresh.types)) {
    for (const key of ["privateKey", "privateKeyPassphrase"]) if (type.properties[key]) expect(type.properties[key].secret).toBe(true);
    expect(Object.values(type.properties).filter((p) => p.secret).length).toBeLessThanOrEqual(2);
  }
  expect(Object.keys(fresh.types).sort()).toEqual(
    ["Connection", "ConnectionJumpHost", "FirewallRule", "Gateway", "GatewayJumpHost", "LastConnection", "SourceAttempts"].map(
      (n) => `shared-tunnel:index:${n}`,
    ),
  );
});
