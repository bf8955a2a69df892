import type * as pulumi from "@pulumi/pulumi";
import { SharedTunnelError } from "../errors";
import { firewallProvider } from "../dynamic/firewall-provider";
import { tunnelProvider } from "../dynamic/tunnel-provider";
import { constructGatedTunnel } from "./resources";
import { unwrapSecrets, withSecrets } from "./secrets";
import { PLUGIN_TYPES, typeOfUrn, urnOwnership } from "./tokens";

/** Every lifecycle method, as the plugin calls it on raw (unwrapped) values. */
type Lifecycle = Required<pulumi.dynamic.ResourceProvider>;

/**
 * Each custom type's lifecycle (the very objects the dynamic providers call) and the inputs it
 * keeps secret whole in inputs and state, as the TypeScript classes do with secretInput and
 * additionalSecretOutputs. `defaults` are what the TypeScript class fills in before registering.
 */
const KINDS: Record<string, { lifecycle: Lifecycle; secret: readonly string[]; defaults: Record<string, unknown> }> = {
  [PLUGIN_TYPES.SharedTunnel]: { lifecycle: tunnelProvider as Lifecycle, secret: ["connection", "gateway"], defaults: { restart: "always" } },
  [PLUGIN_TYPES.FirewallAllow]: { lifecycle: firewallProvider as Lifecycle, secret: ["connection", "preflightFor"], defaults: {} },
};

/** A type this plugin does not serve: the program's SDK and the installed plugin are of different versions. */
function unknownType(what: string): SharedTunnelError {
  return new SharedTunnelError(`shared-tunnel: unknown ${what}`, {
    what: "serve a resource",
    hint: `this plugin serves ${Object.values(PLUGIN_TYPES).join(", ")}: install the plugin version the program's SDK was generated for`,
  });
}

function kindOf(urn: string) {
  const kind = KINDS[typeOfUrn(urn)];
  if (!kind) throw unknownType(`resource type ${typeOfUrn(urn)} (${urn})`);
  return kind;
}

/**
 * The provider plugin: dispatches on the type token of the URN the engine sends, unwraps secret
 * envelopes on the way in and wraps the secret properties on the way out. Everything else is the
 * dynamic providers' lifecycle code, called as it is.
 */
export class SharedTunnelProvider implements pulumi.provider.Provider {
  constructor(
    public readonly version: string,
    public readonly schema: string,
  ) {}

  async check(urn: string, olds: unknown, news: Record<string, unknown>): Promise<pulumi.provider.CheckResult> {
    const kind = kindOf(urn);
    const given = unwrapSecrets(news);
    const inputs = { ...kind.defaults, ...withoutUndefined(given), ...urnOwnership(urn) };
    const result = await kind.lifecycle.check(unwrapSecrets(olds), inputs);
    return { inputs: withSecrets((result.inputs ?? inputs) as object, kind.secret), failures: result.failures ?? [] };
  }

  async diff(id: string, urn: string, olds: unknown, news: unknown): Promise<pulumi.provider.DiffResult> {
    return kindOf(urn).lifecycle.diff(id, unwrapSecrets(olds), unwrapSecrets(news));
  }

  async create(urn: string, inputs: unknown): Promise<pulumi.provider.CreateResult> {
    const kind = kindOf(urn);
    const made = await kind.lifecycle.create(unwrapSecrets(inputs));
    return { id: made.id, outs: withSecrets(made.outs as object, kind.secret) };
  }

  async read(id: string, urn: string, props?: unknown): Promise<pulumi.provider.ReadResult> {
    const kind = kindOf(urn);
    const found = await kind.lifecycle.read(id, unwrapSecrets(props));
    // No id: the resource is gone from the host, and refresh drops it from the state.
    if (!found.id || !found.props) return { id: "", props: {} };
    return { id: found.id, props: withSecrets(found.props as object, kind.secret) };
  }

  async update(id: string, urn: string, olds: unknown, news: unknown): Promise<pulumi.provider.UpdateResult> {
    const kind = kindOf(urn);
    const updated = await kind.lifecycle.update(id, unwrapSecrets(olds), unwrapSecrets(news));
    return { outs: withSecrets(updated.outs as object, kind.secret) };
  }

  async delete(id: string, urn: string, props: unknown): Promise<void> {
    await kindOf(urn).lifecycle.delete(id, unwrapSecrets(props));
  }

  async construct(
    name: string,
    type: string,
    inputs: pulumi.Inputs,
    options: pulumi.ComponentResourceOptions,
  ): Promise<pulumi.provider.ConstructResult> {
    if (type !== PLUGIN_TYPES.GatedTunnel) throw unknownType(`component type ${type}`);
    return constructGatedTunnel(name, inputs, options);
  }
}

/** Engine values never hold undefined, but a test's may: drop them so a default is not overwritten. */
function withoutUndefined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}
