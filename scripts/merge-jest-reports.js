// Usage: node scripts/merge-jest-reports.js OUT SHARD_REPORT...
// One jest --json report from the shards' reports (scripts/test.sh): counts summed, suites and
// tests concatenated. A shard whose report is missing (its jest died before writing it) fails the
// merge, so a lost shard never reads as fewer tests passing.
const fs = require("node:fs");
const [out, ...parts] = process.argv.slice(2);
const reports = parts.map((p) => {
  if (!fs.existsSync(p)) {
    console.error(`merge-jest-reports: ${p} is missing: that shard wrote no report`);
    process.exit(1);
  }
  return JSON.parse(fs.readFileSync(p, "utf8"));
});
const sum = (key) => reports.reduce((n, r) => n + (r[key] ?? 0), 0);
const merged = { ...reports[0], success: reports.every((r) => r.success), testResults: reports.flatMap((r) => r.testResults) };
for (const key of Object.keys(reports[0])) if (typeof reports[0][key] === "number" && key.startsWith("num")) merged[key] = sum(key);
merged.startTime = Math.min(...reports.map((r) => r.startTime));
fs.writeFileSync(out, JSON.stringify(merged));
for (const p of parts) fs.rmSync(p);
