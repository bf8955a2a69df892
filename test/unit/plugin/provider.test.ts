import * as pulumi from "@pulumi/pulumi";
import { tunnelProvider } from "../../../provider/dynamic/tunnel-provider";
import { SharedTunnelProvider } from "../../../provider/plugin/provider";
import { HOST_KEY, PEM } from "../key-fixtures";

/*
 * The plugin's check and diff are the dynamic providers' own, on values with their secret envelopes
 * taken off; what it returns keeps the connection, gateway and preflightFor secret as a whole.
 */
const { specialSigKey, specialSecretSig } = pulumi.runtime;
const secret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });
const FORWARD = "urn:pulumi:dev::proj::shared-tunnel:index:SharedTunnel::svc";
const RULE = "urn:pulumi:dev::proj::shared-tunnel:index:FirewallAllow::svc";
const plugin = new SharedTunnelProvider("0.0.0", "{}");
const gateway = { host: "198.18.1.2", user: "tunnel", privateKey: PEM, hostKey: HOST_KEY };
const news = {
  gateway: { ...gateway, privateKey: secret(PEM) },
  bindAddress: "198.51.100.40",
  bindPort: 8080,
  targetHost: "127.0.0.1",
  targetPort: 8000,
};

test("check unwraps nested secrets, fills in what the class would, and returns the gateway as a whole secret", async () => {
  const { inputs, failures } = await plugin.check(FORWARD, {}, news);
  expect(failures).toEqual([]);
  expect(inputs.gateway).toEqual(secret(gateway));
  expect(inputs).toMatchObject({ owner: "proj/dev/svc", progressUrn: FORWARD, restart: "always", bindPort: 8080 });
  expect(inputs.identity).toMatch(/^[0-9a-f]{12}$/);
});

test("check refuses what the dynamic provider refuses, with the same failures", async () => {
  const bad = { ...news, bindPort: 70000, gateway: { ...gateway, hostKey: undefined } };
  const ours = await plugin.check(FORWARD, {}, bad);
  const theirs = await tunnelProvider.check({}, { ...bad, owner: "proj/dev/svc" });
  expect(ours.failures?.length).toBeGreaterThan(0);
  expect(ours.failures).toEqual(theirs.failures);
});

test("a rule's connection and preflightFor come back as whole secrets", async () => {
  const connection = { host: "198.18.0.2", user: "root", privateKey: PEM, hostKey: HOST_KEY };
  const { inputs } = await plugin.check(RULE, {}, { connection, port: 8080, sources: ["198.51.100.0/24"], preflightFor: news });
  expect(inputs.connection).toEqual(secret(connection));
  expect(inputs.preflightFor[specialSigKey]).toBe(specialSecretSig);
  expect(inputs.sources).toEqual(["198.51.100.0/24"]);
});

test("an unknown type token is refused by name", async () => {
  await expect(plugin.check("urn:pulumi:dev::proj::shared-tunnel:index:Nope::x", {}, {})).rejects.toThrow(
    "unknown resource type shared-tunnel:index:Nope",
  );
});
