/**
 * How every command of ours starts on this machine (local mode, and the `reap` CLI without
 * --host): in `/`, never in the caller's directory, and without the variables that make a shell
 * or an interpreter load code before ours. Root runs `reap` or `pulumi up` from wherever it
 * stands, often a directory another user can write (/tmp, a shared checkout); a child started
 * there inherits it as its working directory, and `python3 -c` (without -I) imports from it.
 * Each interpreter we start is isolated on its own (python3 -I, perl -T); this covers what we
 * do not start by name: the shell ssh runs a ProxyCommand with ($SHELL -c reads BASH_ENV), ufw's
 * own Python (PYTHONPATH), relative PATH entries (resolved from `/`, root's).
 */
export const START_DIR = "/";

/** Unset for every child: BASH_ENV/ENV (sourced by bash and sh), Python's and Perl's search paths and options. */
const UNSET_FOR_CHILDREN = ["BASH_ENV", "ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONSTARTUP", "PERL5LIB", "PERLLIB", "PERL5OPT"];

/** The overrides to pass execa (extendEnv keeps the rest of the caller's environment): each one unset. */
export function childEnvOverrides(): Record<string, undefined> {
  return Object.fromEntries(UNSET_FOR_CHILDREN.map((k) => [k, undefined]));
}
