// The Go quick start's entry point for `pulumi up` (with Pulumi's Go language host); the program
// itself is quickstart.Program.
package main

import (
	"example.com/pulumi-shared-tunnel/examples/go/quickstart"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(quickstart.Program)
}
