import type { RunResult, Runner } from "../../../provider/host/runner";
import { readUnprivilegedPortStart, unprivilegedPortWarning } from "../../../provider/listener/unprivileged-ports";

/** A host answering the read with `result`; `reads` counts them. */
const answering = (result: Partial<RunResult>, where = "root@host:22") => {
  let reads = 0;
  const runner: Runner = {
    where,
    run: async () => ((reads += 1), { exitCode: 0, stdout: "", stderr: "", timedOut: false, ...result }),
    close: async () => {},
  };
  return Object.assign(runner, { reads: () => reads });
};

test("the host's value is read; a kernel without the setting has 1024, fixed", async () => {
  expect(await readUnprivilegedPortStart(answering({ stdout: "2000\n" }, "root@a:22"))).toBe(2000);
  expect(await readUnprivilegedPortStart(answering({ exitCode: 1, stderr: "No such file or directory" }, "root@b:22"))).toBe(1024);
});

test("fifty creates on one host read it once", async () => {
  const host = answering({ stdout: "1024\n" }, "root@many:22");
  await Promise.all(Array.from({ length: 50 }, () => readUnprivilegedPortStart(host)));
  expect(host.reads()).toBe(1);
});

test("a port at or above it warns with the port, the value and both fixes; one below does not", () => {
  expect(unprivilegedPortWarning(1023, 1024)).toBeUndefined();
  const warning = unprivilegedPortWarning(8080, 1024);
  expect(warning).toMatch(/^port 8080 is at or above the tunnel host's net\.ipv4\.ip_unprivileged_port_start \(1024\): any local user/);
  expect(warning).toContain("choose a bindPort below 1024");
  expect(warning).toContain("sysctl -w net.ipv4.ip_unprivileged_port_start=8081");
});

test("where every port is anyone's (0, as in many containers), no port below it is offered", () => {
  const warning = unprivilegedPortWarning(80, 0);
  expect(warning).toContain("(0)");
  expect(warning).not.toContain("below 0");
  expect(warning).toContain("ip_unprivileged_port_start=81");
});
