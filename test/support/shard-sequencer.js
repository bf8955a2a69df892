/**
 * Splits the suites between `npm test`'s shards (scripts/test.sh runs one jest per lab, side by
 * side) by how long each took, not by count: a few lab suites take minutes and most unit suites
 * under a second, so jest's own even split by count left one shard with most of the work. Longest
 * first, each to the shard with the least so far. Times come from test/support/suite-times.json
 * (seconds per file, relative to dist/test; `node scripts/suite-times.js REPORT` rewrites it from a
 * run's jest --json report);
 * a suite not listed yet counts as a lab suite of a minute if it is under integration, examples or
 * reliability, else as a second.
 */
const path = require("node:path");
const Sequencer = require("@jest/test-sequencer").default;
const times = require("./suite-times.json");

const ROOT = path.resolve(__dirname, "../../dist/test");

function weight(test) {
  const rel = path.relative(ROOT, test.path);
  if (times[rel] !== undefined) return times[rel];
  return /^(integration|examples|reliability)\//.test(rel) ? 60 : 1;
}

class ShardSequencer extends Sequencer {
  shard(tests, { shardIndex, shardCount }) {
    const load = new Array(shardCount).fill(0);
    const mine = [];
    const byWeight = [...tests].sort((a, b) => weight(b) - weight(a) || (a.path < b.path ? -1 : 1));
    for (const test of byWeight) {
      const least = load.indexOf(Math.min(...load));
      load[least] += weight(test);
      if (least === shardIndex - 1) mine.push(test);
    }
    return mine;
  }
}

module.exports = ShardSequencer;
