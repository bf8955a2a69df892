import { openRunner, withRunner } from "../../../provider/host/open-runner";

test("the runner for the local host carries the report it was opened with, and runs commands", async () => {
  const lines: string[] = [];
  const report = (line: string) => void lines.push(line);
  const runner = await openRunner(undefined, report);
  expect(runner.where).toBe("local");
  expect(runner.report).toBe(report);
  expect(await withRunner(undefined, report, (r) => r.run(["printf", "ok"]))).toMatchObject({ exitCode: 0, stdout: "ok" });
  await runner.close();
  // Opening a local runner is no step worth a line.
  expect(lines).toEqual([]);
});
