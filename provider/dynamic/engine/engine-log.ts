import type { Report } from "../../host/report";
import { engineAddress } from "./engine-address";

/**
 * Progress lines for slow steps ("checking … through the gateway", "waiting for the listener"),
 * shown on the resource's own row of `pulumi up` while it runs, and gone once it is done.
 *
 * Why this way: `pulumi.log` in a dynamic provider never reaches the CLI. The provider process
 * (@pulumi/pulumi's cmd/dynamic-provider) is given the engine's address as an argument but
 * never stores it, so the SDK's log has no engine to send to (pulumi/pulumi#18249). We send the
 * engine's own Log call ourselves: ephemeral (a status, not a diagnostic), to the resource's URN,
 * which the resource passes in as `progressUrn` since the provider is not told it.
 * Progress is best effort: when there is no engine (tests, the reaper), it goes nowhere, and a
 * failed send never fails the step.
 */
export interface ResourceLog {
  /** Shows `message` on the resource's row; returns at once. */
  progress: Report;
  /**
   * A warning on the resource, kept in the run's diagnostics (what `pulumi refresh` and
   * `pulumi up` list at the end). Resolves once the engine has it (at most 2 s), so it is shown
   * before the step reports done; still best effort.
   */
  warning(message: string): Promise<void>;
}

/** Progress lines and warnings for the resource `urn` (no URN: nowhere). */
export function resourceLog(urn: string | undefined): ResourceLog {
  return {
    progress: (message) => void sendLog(urn, message, "INFO", true),
    warning: (message) => sendLog(urn, message, "WARNING", false),
  };
}

function sendLog(urn: string | undefined, message: string, severity: "INFO" | "WARNING", ephemeral: boolean): Promise<void> {
  const engine = urn ? engineClient() : undefined;
  if (!urn || !engine) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      const req = new engine.proto.LogRequest();
      req.setSeverity(engine.proto.LogSeverity[severity]);
      req.setMessage(message);
      req.setUrn(urn);
      req.setEphemeral(ephemeral);
      setTimeout(resolve, 2000).unref();
      engine.client.log(req, () => resolve());
    } catch {
      // best effort: a log line is never worth failing the step for
      resolve();
    }
  });
}

interface Engine {
  client: { log(req: unknown, done: () => void): void };
  proto: typeof import("@pulumi/pulumi/proto/engine_pb");
}

let engine: Engine | null | undefined;

/** The engine's Log client, when this process is Pulumi's dynamic provider. */
function engineClient(): Engine | undefined {
  if (engine === undefined) engine = connect();
  return engine ?? undefined;
}

function connect(): Engine | null {
  const address = engineAddress();
  if (!address) return null;
  try {
    // Loaded here, not imported: only a process with an engine to talk to needs gRPC, and one that
    // cannot load it sends nothing (progress is best effort) rather than failing to start.
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded lazily, and inside the try, on purpose (see above) */
    const grpc = require("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
    const rpc = require("@pulumi/pulumi/proto/engine_grpc_pb") as typeof import("@pulumi/pulumi/proto/engine_grpc_pb");
    const proto = require("@pulumi/pulumi/proto/engine_pb") as typeof import("@pulumi/pulumi/proto/engine_pb");
    /* eslint-enable @typescript-eslint/no-require-imports */
    return { client: new rpc.EngineClient(address, grpc.credentials.createInsecure()), proto };
  } catch {
    return null;
  }
}
