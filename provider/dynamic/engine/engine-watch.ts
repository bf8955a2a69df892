import { engineAddress } from "./engine-address";
import { closeAllConnections } from "../../host/connection-pool";

/**
 * Makes this provider process leave when the Pulumi engine that started it is gone.
 *
 * Why: when `pulumi` is killed (a cancelled CI job SIGKILLs it mid-create), @pulumi/pulumi's Node
 * dynamic provider never notices: it is re-parented to init and runs on, holding its ssh
 * connections, for as long as the machine is up (Pulumi's Go providers poll the engine's gRPC
 * health check; the Node SDK has nothing of the kind). Its `pulumi-resource-pulumi-nodejs` shim is a
 * shell script waiting on node, so it ends when node does.
 *
 * Cost: one health-check call a second on a loopback connection kept open between calls; the timer
 * is unref'd, so it never keeps a provider that is done from exiting.
 */
/** @internal exported for its unit tests */
export type EngineState = "alive" | "gone";

interface EngineWatchOptions {
  /** One look at the engine; a rejection counts as "alive" (only a clear "gone" ends the process). */
  probe: () => Promise<EngineState>;
  /** Runs once, after `misses` "gone" in a row. */
  onGone: () => Promise<void> | void;
  intervalMs: number;
  misses: number;
}

/**
 * Probes every `intervalMs` (never two probes at once) until `misses` "gone" in a row, then calls onGone.
 * @internal exported for its unit tests
 */
export function watchEngine(options: EngineWatchOptions): { stop(): void } {
  let missed = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => (timer = setTimeout(() => void tick(), options.intervalMs).unref());
  const tick = async () => {
    const state = await options.probe().catch((): EngineState => "alive");
    if (stopped) return;
    missed = state === "gone" ? missed + 1 : 0;
    if (missed < options.misses) return void schedule();
    stopped = true;
    await options.onGone();
  };
  schedule();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

const HEALTH_CHECK = "/grpc.health.v1.Health/Check";
const PROBE_TIMEOUT_MS = 5000;

/**
 * Asks the engine's gRPC health service (which the Pulumi engine serves, and Go providers poll).
 * Only UNAVAILABLE (nothing listens at the address any more) means gone; any answer, even an error
 * status, or a slow engine, means something is there.
 * @internal exported for its unit tests
 */
export function healthProbe(address: string): () => Promise<EngineState> {
  // Loaded here, not imported: only a provider process that has an engine to watch needs gRPC.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily on purpose (see above)
  const grpc = require("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const raw = (b: Buffer) => b;
  return () =>
    new Promise((resolve) => {
      // An empty HealthCheckRequest (service "") encodes to zero bytes.
      client.makeUnaryRequest(HEALTH_CHECK, raw, raw, Buffer.alloc(0), { deadline: Date.now() + PROBE_TIMEOUT_MS }, (err) => {
        resolve(err?.code === grpc.status.UNAVAILABLE ? "gone" : "alive");
      });
    });
}

const INTERVAL_MS = 1000;
const MISSES = 2;
/** How long commands already running on a tunnel host may take to finish before the connection closes. */
const GRACE_MS = 2000;

let watching = false;

/**
 * Starts the watch once per process, and only in Pulumi's dynamic provider. When the engine is
 * gone, nobody can receive a result any more: let running commands finish, close the ssh
 * connections, and exit (silently: stderr went to the dead engine).
 */
export function leaveWithEngine(): void {
  const address = engineAddress();
  if (watching || !address) return;
  watching = true;
  watchEngine({
    probe: healthProbe(address),
    intervalMs: INTERVAL_MS,
    misses: MISSES,
    onGone: async () => {
      setTimeout(() => process.exit(0), GRACE_MS + 1000).unref();
      await closeAllConnections(GRACE_MS).catch(() => undefined);
      process.exit(0);
    },
  });
}
