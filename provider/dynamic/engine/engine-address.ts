/**
 * The address of the Pulumi engine that started this process, when this process is Pulumi's
 * dynamic provider (@pulumi/pulumi's cmd/dynamic-provider, run by the `pulumi-resource-pulumi-nodejs`
 * shim) or our provider plugin (plugin/main.ts, run by its launcher). The engine passes its address as the provider's last argument, after any flags it adds
 * (`--logtostderr`, `-v=9`, `--tracing <endpoint>`); the SDK never stores it, so we read it here.
 * Undefined in any other process (tests, the reaper), which then has no engine to talk to.
 */
export function engineAddress(argv: readonly string[] = process.argv): string | undefined {
  const [, script] = argv;
  const address = argv.length > 2 ? argv[argv.length - 1] : undefined;
  const path = script?.replace(/\\/g, "/") ?? "";
  if (!path.includes("cmd/dynamic-provider") && !path.endsWith("/provider/plugin/main.js")) return undefined;
  return address && /^(?:[\w.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/.test(address) ? address : undefined;
}
