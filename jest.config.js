/**
 * Tests run on the compiled JavaScript (tsc -p . first): the code that ships, with execa's ESM
 * loaded by a real dynamic import (jest needs --experimental-vm-modules for that).
 * Unit tests run in-process; integration tests drive real pulumi, ssh and ufw in the lab.
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/dist/test"],
  testMatch: ["**/*.test.js"],
  transform: {},
  reporters: ["default", "<rootDir>/test/support/scenario-reporter.js"],
  // npm test runs two shards side by side, one per lab: split by time, not by count.
  testSequencer: "<rootDir>/test/support/shard-sequencer.js",
};
