/**
 * Prints, at the end of the run, one table of the reliability scenarios (test/reliability/) and
 * their outcomes, so a CI log shows at a glance which ways of breaking things were tried and held.
 */
class ScenarioReporter {
  onRunComplete(_contexts, results) {
    const rows = [];
    for (const file of results.testResults) {
      if (!file.testFilePath.includes("/reliability/")) continue;
      // Table-driven files (hundreds of payloads per input) get one row per group, with its count.
      const grouped = file.testResults.length > 50;
      const groups = new Map();
      for (const t of file.testResults) {
        const name = grouped
          ? `${t.ancestorTitles[0] ?? t.title} (x${file.testResults.filter((u) => (u.ancestorTitles[0] ?? u.title) === (t.ancestorTitles[0] ?? t.title)).length})`
          : [...t.ancestorTitles, t.title].join(" > ");
        const row = groups.get(name) ?? { ok: true, ms: 0, status: "PASS" };
        row.ms += t.duration ?? 0;
        if (t.status !== "passed") row.status = t.status.toUpperCase();
        groups.set(name, row);
      }
      for (const [name, row] of groups) rows.push([name, row.status, `${(row.ms / 1000).toFixed(1)}s`]);
      if (file.testExecError) rows.push([file.testFilePath, "ERROR", file.testExecError.message.split("\n")[0]]);
    }
    if (rows.length === 0) return;
    const width = Math.min(110, Math.max(...rows.map((r) => r[0].length)));
    const line = (r) => `${r[0].length > width ? r[0].slice(0, width - 1) + "…" : r[0].padEnd(width)}  ${r[1].padEnd(7)} ${r[2]}`;
    const passed = rows.filter((r) => r[1] === "PASS").length;
    process.stdout.write(
      `\nReliability scenarios (${passed}/${rows.length} held)\n${line(["scenario", "outcome", "time"])}\n${rows.map(line).join("\n")}\n\n`,
    );
  }
}
module.exports = ScenarioReporter;
