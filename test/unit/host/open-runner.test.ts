import { withRunner } from "../../../provider/host/open-runner";

test("the runner for the local host carries the report it was opened with, and runs commands", async () => {
  const lines: string[] = [];
  const report = (line: string) => void lines.push(line);
  const result = await withRunner(undefined, report, async (runner) => {
    expect(runner.where).toBe("local");
    expect(runner.report).toBe(report);
    return runner.run(["printf", "ok"]);
  });
  expect(result).toMatchObject({ exitCode: 0, stdout: "ok" });
  // Opening a local runner is no step worth a line.
  expect(lines).toEqual([]);
});
