import { waitFor } from "../../provider/state/wait-for";
import { fetchFrom, probe, sshProcessesWith, type Lab } from "./lab";
import { demoConfig } from "./demo-config";
import { keepersWith } from "./leftovers";
import { SdkStack, type SdkLanguage } from "./sdk-stack";
import { TestStack } from "./stack";
import { YamlStack } from "./yaml-stack";

/**
 * One GatedTunnel stack behind either front end, driven the same way, so one table of lifecycle
 * cases runs against both: the TypeScript classes (the demo program through the Automation API)
 * and the provider plugin (examples/yaml through the real CLI, the plugin installed from its
 * tarball). Both read what a user reads: the checkpoint (`stack export`) and the host.
 */

/** One resource of a checkpoint, as `pulumi stack export` writes it. */
export interface StateResource {
  urn: string;
  type: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

/** The forward a stack asks for: the port it shares and the one range let in. */
export interface Forward {
  port: number;
  source: string;
}

export interface FrontEnd {
  readonly name: string;
  /** The tag prefix of every forward and rule this stack makes (see provider/tag). */
  readonly prefix: string;
  /** The type tokens its SharedTunnel and FirewallAllow are stored under. */
  readonly types: { tunnel: string; rule: string };
  /** The URN its forward is stored under. */
  readonly tunnelUrn: string;
  /** Creates the stack (the plugin front end installs the plugin first). */
  init(): Promise<void>;
  up(forward: Forward): Promise<void>;
  refresh(): Promise<void>;
  /** `preview --expect-no-changes` with `forward`: true when it passed. */
  previewUnchanged(forward: Forward): Promise<boolean>;
  destroy(): Promise<void>;
  /** Destroys whatever is left, failures ignored (a test's clean-up). */
  cleanUp(): Promise<void>;
  /** The checkpoint's resources. */
  resources(): Promise<StateResource[]>;
}

/** The outputs the checkpoint holds for the resource of type `type`, or undefined when it holds none. */
export function outputsOf(resources: StateResource[], type: string): Record<string, unknown> | undefined {
  return resources.find((r) => r.type === type)?.outputs;
}

function exported(text: string): StateResource[] {
  return (JSON.parse(text) as { deployment: { resources?: StateResource[] } }).deployment.resources ?? [];
}

/** The demo program (examples/demo) through the TypeScript classes: dynamic resources. */
export function typescriptFrontEnd(lab: Lab, name: string): FrontEnd {
  const stack = new TestStack(name);
  const config = (f: Forward) => demoConfig(lab, { bindPort: String(f.port), sources: JSON.stringify([f.source]) });
  return {
    name: "TypeScript classes",
    prefix: `pst.shared-tunnel-demo.${name}.`,
    types: {
      tunnel: "pulumi-nodejs:dynamic/pulumi-shared-tunnel:SharedTunnel",
      rule: "pulumi-nodejs:dynamic/pulumi-shared-tunnel:FirewallAllow",
    },
    tunnelUrn: `urn:pulumi:${name}::shared-tunnel-demo::pulumi-shared-tunnel:index:GatedTunnel$pulumi-nodejs:dynamic/pulumi-shared-tunnel:SharedTunnel::internal-service-forward`,
    init: async () => undefined,
    up: async (f) => void (await stack.ok("up", config(f))),
    refresh: async () => void (await stack.ok("refresh")),
    previewUnchanged: async (f) => (await stack.run("preview", config(f), {}, ["--expect-no-changes"])).exitCode === 0,
    destroy: async () => void (await stack.ok("destroy")),
    cleanUp: async () => void (await stack.run("destroy")),
    resources: async () => {
      const r = await stack.run("export");
      if (r.exitCode !== 0) throw new Error(`pulumi export (${name}) failed:\n${r.stderr.slice(-2000)}`);
      return exported(r.stdout);
    },
  };
}

/** examples/yaml through the installed provider plugin: the plugin's own type tokens. */
export function pluginFrontEnd(lab: Lab, name: string): FrontEnd {
  const stack = new YamlStack(name);
  const config = (f: Forward) => ["--config", `bindPort=${f.port}`, "--config", `source=${f.source}`];
  return {
    name: "provider plugin (YAML)",
    prefix: `pst.shared-tunnel-yaml.${name}.`,
    types: { tunnel: "shared-tunnel:index:SharedTunnel", rule: "shared-tunnel:index:FirewallAllow" },
    tunnelUrn: `urn:pulumi:${name}::shared-tunnel-yaml::shared-tunnel:index:GatedTunnel$shared-tunnel:index:SharedTunnel::shared-forward`,
    init: async () => {
      await stack.installPlugin();
      await stack.init(yamlLabConfig(lab));
    },
    up: async (f) => void (await stack.ok(["up", "--yes", "--skip-preview", ...config(f)])),
    refresh: async () => void (await stack.ok(["refresh", "--yes", "--skip-preview"])),
    previewUnchanged: async (f) => (await stack.pulumi(["preview", "--expect-no-changes", ...config(f)])).exitCode === 0,
    destroy: async () => void (await stack.ok(["destroy", "--yes", "--skip-preview"])),
    cleanUp: async () => void (await stack.pulumi(["destroy", "--yes", "--skip-preview"])),
    resources: async () => exported(await stack.ok(["stack", "export"])),
  };
}

/** examples/python or examples/go through its generated SDK and the inline Automation API. */
export function sdkFrontEnd(lab: Lab, name: string, language: SdkLanguage): FrontEnd & { stack: SdkStack } {
  const stack = new SdkStack(name, language);
  const configure = async (f: Forward) => {
    await stack.ok(["config", "set", "bindPort", String(f.port)]);
    await stack.ok(["config", "set", "source", f.source]);
  };
  const ok = async (op: "up" | "refresh" | "destroy") => {
    const r = await stack.inline(op);
    if (r.exitCode !== 0) throw new Error(`${language} inline ${op} (${name}) failed (${r.exitCode}):\n${r.stderr.slice(-3000)}`);
  };
  return {
    stack,
    name: `${language} SDK`,
    prefix: `pst.${stack.project}.${name}.`,
    types: { tunnel: "shared-tunnel:index:SharedTunnel", rule: "shared-tunnel:index:FirewallAllow" },
    tunnelUrn: `urn:pulumi:${name}::${stack.project}::shared-tunnel:index:GatedTunnel$shared-tunnel:index:SharedTunnel::shared-forward`,
    init: async () => {
      await stack.installPlugin();
      await stack.init(yamlLabConfig(lab));
    },
    up: async (f) => {
      await configure(f);
      await ok("up");
    },
    refresh: () => ok("refresh"),
    previewUnchanged: async (f) => {
      await configure(f);
      return (await stack.inline("preview")).exitCode === 0;
    },
    destroy: () => ok("destroy"),
    cleanUp: async () => void (await stack.inline("destroy")),
    resources: async () => exported(await stack.ok(["stack", "export"])),
  };
}

/**
 * What refresh must say behind pulumi's back: the keeper restarts a killed ssh (the client at `url`
 * reached again) and refresh counts the restart; a killed keeper is refreshed as gone, with its ssh.
 * `created` is the forward's outputs from the checkpoint before.
 */
export async function expectRefreshTruths(lab: Lab, fe: FrontEnd, created: Record<string, unknown>, url: string): Promise<void> {
  const tunnel = async () => outputsOf(await fe.resources(), fe.types.tunnel);
  const ssh = Number(created.pid);
  await probe(lab.nsTh, ["kill", "-KILL", String(ssh)]);
  // The keeper's restart is sub-second; the bound only stops a broken keeper hanging the test.
  const restarted = async () => (await sshProcessesWith(String(created.tag))).some((l) => !l.startsWith(`${ssh} `));
  const reached = async () => (await restarted()) && (await fetchFrom(lab.nsTc, url)) === REACHED;
  expect(await waitFor(async () => (await reached()) || undefined, 10_000)).toBe(true);
  await fe.refresh();
  expect(await tunnel()).toMatchObject({ restarts: 1, listening: true, keeperPid: created.keeperPid });

  await probe(lab.nsTh, ["kill", "-KILL", String(created.keeperPid)]);
  await fe.refresh();
  expect(await tunnel()).toBeUndefined();
  expect({ ssh: await sshProcessesWith(String(created.tag)), keepers: await keepersWith(String(created.tag)) }).toEqual({ ssh: [], keepers: [] });
}

/** What the lab's internal service answers. */
export const REACHED = "internal service reached";

/** examples/yaml's config for the lab (bindPort and source are set per run). */
export function yamlLabConfig(lab: Lab): Record<string, string> {
  return {
    tunnelHost: lab.thSshAddr,
    tunnelHostKeyFile: lab.thKey,
    tunnelHostKey: lab.thHostKey,
    gatewayHost: lab.gwAddr,
    gatewayUser: lab.gwUser,
    gatewayKeyFile: lab.gwKey,
    gatewayHostKey: lab.gwHostKey,
    bindAddress: lab.thTrusted,
    targetHost: lab.targetHost,
    targetPort: String(lab.targetPort),
  };
}
