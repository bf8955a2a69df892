import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

/**
 * The CI example's workflow is checked against GitHub's own workflow schema, as shipped in
 * @actions/workflow-parser (the parser behind the Actions language service; no network), and for
 * the property the example exists to show: destroy always runs, after up, from another checkout.
 */
const ROOT = path.resolve(__dirname, "../../../..");
const FILE = path.join(ROOT, "examples/ci-ephemeral/workflow.yml");

/** Schema errors (unknown keys, wrong types, contexts used where GitHub does not allow them). */
async function schemaErrors(name: string, content: string): Promise<string[]> {
  const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import("@actions/workflow-parser");
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  // convert also checks what parsing alone does not, such as `needs` naming a job that exists.
  if (parsed.value) await convertWorkflowTemplate(parsed.context, parsed.value);
  return parsed.context.errors.getErrors().map((e) => e.message);
}

interface Job {
  needs?: string | string[];
  if?: string;
  steps: { uses?: string; with?: Record<string, string>; run?: string; "working-directory"?: string }[];
}

test("the workflow is valid against GitHub's workflow schema", async () => {
  expect(await schemaErrors("workflow.yml", readFileSync(FILE, "utf8"))).toEqual([]);
});

test("the lint catches what it should (an unknown key, a missing job in needs, a context where it is not allowed)", async () => {
  const base = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n";
  expect(await schemaErrors("ok.yml", base)).toEqual([]);
  expect((await schemaErrors("bad-key.yml", base.replace("steps:", "stepz: 1\n    steps:"))).join("\n")).toMatch(/stepz/);
  const second = "  b:\n    needs: nope\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n";
  expect((await schemaErrors("bad-needs.yml", base + second)).join("\n")).toMatch(/nope/);
  expect((await schemaErrors("bad-ctx.yml", base.replace("runs-on:", "env:\n      X: ${{ runner.temp }}\n    runs-on:"))).join("\n")).toMatch(
    /runner/,
  );
});

describe("the destroy job", () => {
  const wf = parseYaml(readFileSync(FILE, "utf8")) as { jobs: Record<string, Job> };
  const destroy = wf.jobs.destroy;

  test("always runs, after the up job", () => {
    expect(destroy.if).toBe("always()");
    expect([destroy.needs].flat()).toContain("up");
  });

  test("checks out at a different path and runs destroy there", () => {
    const upCheckout = wf.jobs.up.steps.find((s) => s.uses?.startsWith("actions/checkout@"));
    const checkout = destroy.steps.find((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkout?.with?.path).toBeTruthy();
    expect(checkout?.with?.path).not.toBe(upCheckout?.with?.path ?? ".");
    const run = destroy.steps.find((s) => s.run?.includes("run.sh destroy"));
    expect(run?.["working-directory"]).toBe(checkout?.with?.path);
  });

  test("the up job brings the environment up and tests it", () => {
    const runs = wf.jobs.up.steps.map((s) => s.run ?? "").join("\n");
    expect(runs).toMatch(/run\.sh up[\s\S]*run\.sh test/);
  });
});
