import { readLab, type Lab } from "../support/lab";
import { exampleConfig, exampleStack, expectGated, expectNothingLeft, stackTagPrefix } from "./support";

/**
 * examples/local-tunnel-host (pulumi runs inside the tunnel host's namespace, no connection) and
 * examples/remote-tunnel-host (over ssh2): up gates the forward, destroy leaves nothing behind.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();

describe.each([
  ["local-tunnel-host", "local-tunnel-host-example", false, 8161],
  ["remote-tunnel-host", "remote-tunnel-host-example", true, 8162],
])("examples/%s", (example, project, remote, port) => {
  // Local mode: the driver (and so the provider) runs in the tunnel host's network namespace.
  const stack = exampleStack(example, remote ? "remote" : "local", remote ? undefined : lab.nsTh);
  const prefix = stackTagPrefix(project, stack.name);
  let url = "";

  afterAll(() => stack.run("destroy"));

  test("up: the trusted client reaches the internal service, the untrusted one does not", async () => {
    const out = await stack.ok("up", exampleConfig(lab, port, remote));
    url = String(out.url);
    expect(url).toBe(`http://${lab.thTrusted}:${port}/`);
    expect(String(out.tag)).toContain(prefix);
    expect(String(out.ruleTag)).toContain(prefix);
    await expectGated(lab, url);
  });

  test("destroy: no ssh process and no firewall rule with the stack's tag", async () => {
    await stack.ok("destroy");
    await expectNothingLeft(lab, prefix, [url]);
  });
});
