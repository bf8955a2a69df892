"""Runs one operation on a stack whose program is examples/python's `program`, in this process,
through Pulumi's inline Automation API (no language host: none can be built here).

    python -I inline_stack.py PROGRAM_FILE PROJECT STACK up|preview|refresh|destroy

The stack already exists in the current directory's project (test/support/sdk-stack.ts made it
and set its config with the CLI); the environment names its PULUMI_HOME, backend and passphrase.
A preview fails (exit 1) when it finds any change. The engine's output goes to stderr.
"""

import os
import runpy
import sys

from pulumi import automation as auto


def main() -> int:
    program_file, project, stack_name, op = sys.argv[1:5]
    # run_path with another run name: the file's own `if __name__ == "__main__"` stays quiet.
    program = runpy.run_path(program_file, run_name="quickstart")["program"]
    stack = auto.create_or_select_stack(
        stack_name=stack_name,
        project_name=project,
        program=program,
        opts=auto.LocalWorkspaceOptions(work_dir=os.getcwd()),
    )
    say = lambda line: print(line, file=sys.stderr)  # noqa: E731
    if op == "up":
        stack.up(on_output=say)
    elif op == "preview":
        stack.preview(on_output=say, expect_no_changes=True)
    elif op == "refresh":
        stack.refresh(on_output=say)
    elif op == "destroy":
        stack.destroy(on_output=say)
    else:
        print(f"inline_stack: unknown operation {op}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except auto.errors.CommandError as e:
        print(e, file=sys.stderr)
        sys.exit(1)
