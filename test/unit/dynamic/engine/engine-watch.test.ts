import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { healthProbe, watchEngine, type EngineState } from "../../../../provider/dynamic/engine/engine-watch";

/** A gRPC server standing in for the engine (it serves no health service: any answer means "there"). */
async function fakeEngine(): Promise<{ address: string; server: grpc.Server }> {
  const server = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, server };
}

/** Runs the watch with scripted probe answers; resolves with the probe count when onGone runs. */
function watchScripted(answers: EngineState[], misses: number): { gone: Promise<number>; probes: () => number; overlapped: () => boolean } {
  let probes = 0;
  let running = 0;
  let overlapped = false;
  const gone = new Promise<number>((resolve) => {
    watchEngine({
      intervalMs: 5,
      misses,
      probe: async () => {
        overlapped ||= running > 0;
        running++;
        await new Promise((r) => setTimeout(r, 15)); // slower than the interval
        running--;
        return answers[probes++] ?? "alive";
      },
      onGone: () => resolve(probes),
    });
  });
  return { gone, probes: () => probes, overlapped: () => overlapped };
}

test("leaves only after `misses` gone answers in a row; an answer in between starts the count again", async () => {
  const w = watchScripted(["gone", "alive", "gone", "alive", "gone", "gone"], 2);
  expect(await w.gone).toBe(6);
  expect(w.overlapped()).toBe(false);
});

test("a failing probe counts as alive, and stop() ends the watch", async () => {
  let probes = 0;
  let gone = false;
  const watch = watchEngine({
    intervalMs: 5,
    misses: 1,
    probe: async () => (probes++, Promise.reject(new Error("boom"))),
    onGone: () => void (gone = true),
  });
  await new Promise((r) => setTimeout(r, 60));
  watch.stop();
  const seen = probes;
  await new Promise((r) => setTimeout(r, 40));
  expect(gone).toBe(false);
  expect(seen).toBeGreaterThan(2);
  expect(probes).toBe(seen);
});

test("the health probe says alive while a server answers, gone once nothing listens", async () => {
  const engine = await fakeEngine();
  const probe = healthProbe(engine.address);
  expect(await probe()).toBe("alive");
  engine.server.forceShutdown();
  expect(await probe()).toBe("gone");
  expect(await probe()).toBe("gone");
});

/** Starts a process that looks like Pulumi's dynamic provider (same script path, engine address last) and calls leaveWithEngine. */
function fakeProvider(address: string, keepAlive: boolean): { exited: Promise<number | null>; kill(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), "pst-engine-watch-"));
  const script = path.join(dir, "cmd", "dynamic-provider", "index.js");
  mkdirSync(path.dirname(script), { recursive: true });
  const watch = require.resolve("../../../../provider/dynamic/engine/engine-watch");
  // keepAlive stands in for the provider's gRPC server, which keeps a real provider running.
  writeFileSync(script, `require(${JSON.stringify(watch)}).leaveWithEngine();${keepAlive ? " setInterval(() => {}, 60000);" : ""}\n`);
  const child = spawn(process.execPath, [script, address], { stdio: "ignore" });
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      rmSync(dir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  return { exited, kill: () => child.kill("SIGKILL") };
}

function within<T>(ms: number, p: Promise<T>): Promise<T | "still running"> {
  return Promise.race([p, new Promise<"still running">((r) => setTimeout(() => r("still running"), ms).unref())]);
}

test("a provider whose engine goes away exits by itself within a few seconds, with status 0", async () => {
  const engine = await fakeEngine();
  const provider = fakeProvider(engine.address, true);
  try {
    expect(await within(2500, provider.exited)).toBe("still running");
    engine.server.forceShutdown();
    expect(await within(6000, provider.exited)).toBe(0);
  } finally {
    provider.kill();
  }
}, 20_000);

test("the watch never keeps a provider that is done from exiting, engine or not", async () => {
  const engine = await fakeEngine();
  const provider = fakeProvider(engine.address, false);
  try {
    expect(await within(5000, provider.exited)).toBe(0);
  } finally {
    provider.kill();
    engine.server.forceShutdown();
  }
}, 20_000);
