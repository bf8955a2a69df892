import { inNs, readLab, withStandInListener, type Lab } from "../support/lab";
import { startProber, whileUntrustedTries } from "../support/prober";

/**
 * The canary for every test that watches the gate with an untrusted client: the prober must
 * count a completed handshake as a breach, and whileUntrustedTries must then fail the test.
 * Without this, a prober that never connects would make those tests pass whatever happens.
 */
jest.setTimeout(60_000);

const lab: Lab = readLab();

test("a prober on the tunnel host itself (loopback, never filtered) gets in, and whileUntrustedTries fails on it", async () => {
  await withStandInListener(lab, 8190, async () => {
    const target = { host: lab.thTrusted, port: 8190 };
    const prober = await startProber(lab.nsTh, [target]);
    await new Promise((r) => setTimeout(r, 1000));
    const report = await prober.stop();
    expect(report.attempts).toBeGreaterThanOrEqual(5);
    expect(report.connected[`${lab.thTrusted}:8190`]).toBe(report.attempts);
    await expect(
      whileUntrustedTries(lab.nsTh, [target], async () => {
        await new Promise((r) => setTimeout(r, 500));
      }),
    ).rejects.toThrow(/the untrusted client got in \d+ times/);
  });
});

test("the untrusted client is kept out of a gated port and a closed one, and the count shows it kept trying", async () => {
  await withStandInListener(lab, 8191, async () => {
    const { report } = await whileUntrustedTries(
      lab.nsUc,
      [
        { host: lab.thTrusted, port: 8191 },
        { host: lab.thTrusted, port: 8192 },
      ],
      async () => {
        await new Promise((r) => setTimeout(r, 1500));
      },
    );
    expect(report.breaches).toEqual([]);
    expect(report.attempts).toBeGreaterThanOrEqual(6);
  });
  // The stand-in is gone: ufw on the lab's tunnel host (default deny) is what kept the client out.
  expect((await inNs(lab.nsTh, ["ufw", "status"])).stdout).toMatch(/^Status: active/m);
});
