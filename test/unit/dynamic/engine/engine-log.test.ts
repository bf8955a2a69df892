import { resourceLog } from "../../../../provider/dynamic/engine/engine-log";

// Outside Pulumi's dynamic provider there is no engine: lines go nowhere and never fail the step.
test.each([undefined, "urn:pulumi:s::p::pulumi-nodejs:dynamic/pulumi-shared-tunnel:SharedTunnel::t"])(
  "without an engine, progress and warnings for %s go nowhere",
  async (urn) => {
    const log = resourceLog(urn);
    expect(log.progress("connecting to root@host")).toBeUndefined();
    await expect(log.warning("the gate does not keep other sources out")).resolves.toBeUndefined();
  },
);
