// Usage: node scripts/suite-times.js REPORT
// Rewrites test/support/suite-times.json from a jest --json report (npm test -- --json
// --outputFile=REPORT): each suite's seconds, which the shard sequencer balances shards by.
const fs = require("node:fs");
const path = require("node:path");
const report = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const root = path.resolve(__dirname, "../dist/test");
const times = {};
for (const r of report.testResults) times[path.relative(root, r.name)] = Math.max(1, Math.round((r.endTime - r.startTime) / 1000));
const sorted = Object.fromEntries(Object.entries(times).sort(([a], [b]) => (a < b ? -1 : 1)));
fs.writeFileSync(path.resolve(__dirname, "../test/support/suite-times.json"), JSON.stringify(sorted, null, 2) + "\n");
console.log(`suite-times: ${Object.keys(sorted).length} suites, ${Object.values(sorted).reduce((a, b) => a + b, 0)} s in all`);
