import { SharedTunnelError, UsageError } from "../errors";

/**
 * One read-only command's run, as every command of ours runs it: `--help` prints its usage; argv
 * that does not parse prints why and the usage (exit 2); `work` writes its output (exit 0), and a
 * failure prints the error, which names what failed, where and the command (exit 1).
 */
export async function runCommand<P>(
  argv: string[],
  usage: string,
  parse: (argv: string[]) => P,
  work: (parsed: P) => Promise<void>,
): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stderr.write(usage);
    return 0;
  }
  let parsed: P;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof UsageError ? err.reason : (err as Error).message}\n${usage}`);
    return 2;
  }
  try {
    await work(parsed);
    return 0;
  } catch (err) {
    process.stderr.write(`${err instanceof SharedTunnelError ? err.message : String(err)}\n`);
    return 1;
  }
}
