import { engineAddress } from "../../../../provider/dynamic/engine/engine-address";

const script = "/p/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js";

test("the engine's address is the dynamic provider's last argument, after any flags the engine adds", () => {
  expect(engineAddress(["node", script, "127.0.0.1:40123"])).toBe("127.0.0.1:40123");
  expect(engineAddress(["node", script, "--logtostderr", "-v=9", "--tracing", "file:///t", "127.0.0.1:40123"])).toBe("127.0.0.1:40123");
  expect(engineAddress(["node", script, "[::1]:40123"])).toBe("[::1]:40123");
});

test("no address outside Pulumi's dynamic provider, or when the last argument is not host:port", () => {
  expect(engineAddress(["node", "/p/dist/provider/cli/reap.js", "127.0.0.1:40123"])).toBeUndefined();
  expect(engineAddress(["node", script])).toBeUndefined();
  expect(engineAddress(["node", script, "127.0.0.1:40123", "-v=9"])).toBeUndefined();
  expect(engineAddress(["node", script, "127.0.0.1:40123;rm"])).toBeUndefined();
});
