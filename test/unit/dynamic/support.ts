/** What a running forward records beside its inputs; the diffs read none of it, so placeholder values do. */
export const runningForwardFields = {
  pid: 1,
  processStartTicks: "1",
  keeperPid: 2,
  keeperStartTicks: "2",
  tag: "t",
  listenAddress: "x",
  url: "x",
  startedAt: "x",
  command: "x",
  logFile: "x",
};
