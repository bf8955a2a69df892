// Command sdk-inline-go runs one operation on a stack whose program is examples/go's
// quickstart.Program, in this process, through Pulumi's inline Automation API (no language host:
// none can be built here).
//
//	sdk-inline-go PROJECT STACK up|preview|refresh|destroy
//
// The stack already exists in the current directory's project (test/support/sdk-stack.ts made it
// and set its config with the CLI); the environment names its PULUMI_HOME, backend and passphrase.
// A preview fails (exit 1) when it finds any change. The engine's output goes to stderr.
package main

import (
	"context"
	"fmt"
	"os"

	"example.com/pulumi-shared-tunnel/examples/go/quickstart"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: sdk-inline-go PROJECT STACK up|preview|refresh|destroy")
		os.Exit(2)
	}
	if err := run(context.Background(), os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, project, stackName, op string) error {
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	stack, err := auto.UpsertStackInlineSource(ctx, stackName, project, quickstart.Program, auto.WorkDir(dir))
	if err != nil {
		return err
	}
	switch op {
	case "up":
		_, err = stack.Up(ctx, optup.ProgressStreams(os.Stderr))
	case "preview":
		_, err = stack.Preview(ctx, optpreview.ExpectNoChanges(), optpreview.ProgressStreams(os.Stderr))
	case "refresh":
		_, err = stack.Refresh(ctx, optrefresh.ProgressStreams(os.Stderr))
	case "destroy":
		_, err = stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stderr))
	default:
		err = fmt.Errorf("sdk-inline-go: unknown operation %q", op)
	}
	return err
}
