// Package quickstart is the GatedTunnel quick start in Go, through the provider plugin and its
// generated SDK. Both keys are read from files on the machine running pulumi and passed by value,
// as plain strings: the plugin keeps them secret in the state all the same. Program is the whole
// program: `pulumi up` runs it from main.go, and the lab test (test/integration/sdk-stacks.test.ts)
// runs the same function through the Automation API.
package quickstart

import (
	"os"

	"example.com/pulumi-shared-tunnel/sdk/go/sharedtunnel"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func Program(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	tunnelHostKey, err := os.ReadFile(cfg.Require("tunnelHostKeyFile"))
	if err != nil {
		return err
	}
	gatewayKey, err := os.ReadFile(cfg.Require("gatewayKeyFile"))
	if err != nil {
		return err
	}
	user := cfg.Get("tunnelHostUser")
	if user == "" {
		user = "root"
	}
	shared, err := sharedtunnel.NewGatedTunnel(ctx, "shared", &sharedtunnel.GatedTunnelArgs{
		Connection: &sharedtunnel.ConnectionArgs{
			Host:       pulumi.String(cfg.Require("tunnelHost")),
			User:       pulumi.String(user),
			PrivateKey: pulumi.String(string(tunnelHostKey)),
			HostKey:    pulumi.String(cfg.Require("tunnelHostKey")), // pinned; anything else is refused
		},
		Gateway: &sharedtunnel.GatewayArgs{ // as the tunnel host sees it
			Host:       pulumi.String(cfg.Require("gatewayHost")),
			User:       pulumi.String(cfg.Require("gatewayUser")),
			PrivateKey: pulumi.String(string(gatewayKey)),
			HostKey:    pulumi.String(cfg.Require("gatewayHostKey")),
		},
		BindAddress: pulumi.String(cfg.Require("bindAddress")), // the trusted interface of the tunnel host
		BindPort:    pulumi.Int(cfg.RequireInt("bindPort")),
		TargetHost:  pulumi.String(cfg.Require("targetHost")), // as the gateway sees it
		TargetPort:  pulumi.Int(cfg.RequireInt("targetPort")),
		Sources:     pulumi.StringArray{pulumi.String(cfg.Require("source"))}, // who may connect
	})
	if err != nil {
		return err
	}
	ctx.Export("url", shared.Url)
	ctx.Export("ruleTag", shared.RuleTag)
	ctx.Export("pid", shared.Pid)
	return nil
}
