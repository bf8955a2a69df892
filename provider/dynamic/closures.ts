/* eslint-disable @typescript-eslint/no-require-imports -- each closure loads the runtime by module name when it is called, so that the state it is serialized into holds no module (see below). */
import type * as pulumi from "@pulumi/pulumi";

/**
 * What the module name resolves to, with each provider as the engine calls it: on whatever inputs and
 * state it hands in. A type only, erased from the compiled (and so the serialized) source.
 */
type Runtime = Record<keyof typeof import("../runtime"), Required<pulumi.dynamic.ResourceProvider>>;

/*
 * These objects are serialized into the stack's state as source text. Each method only requires
 * the implementation by module name and calls it, so:
 * - nothing but `require` and the kind's name is captured (no modules, instances or secrets), and
 * - refresh and destroy run the code installed on disk, not a frozen copy; the module name is
 *   resolved from the program's directory, so state does not depend on where a checkout was.
 */
function closuresFor(kind: "tunnel" | "firewall"): pulumi.dynamic.ResourceProvider {
  return {
    check: (olds, news) => (require("pulumi-shared-tunnel/runtime") as Runtime)[kind].check(olds, news),
    diff: (id, olds, news) => (require("pulumi-shared-tunnel/runtime") as Runtime)[kind].diff(id, olds, news),
    create: (inputs) => (require("pulumi-shared-tunnel/runtime") as Runtime)[kind].create(inputs),
    read: (id, props) => (require("pulumi-shared-tunnel/runtime") as Runtime)[kind].read(id, props),
    update: (id, olds, news) => (require("pulumi-shared-tunnel/runtime") as Runtime)[kind].update(id, olds, news),
    delete: (id, props) => (require("pulumi-shared-tunnel/runtime") as Runtime)[kind].delete(id, props),
  };
}

export const tunnelClosures = closuresFor("tunnel");
export const firewallClosures = closuresFor("firewall");
