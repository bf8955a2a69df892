"""The GatedTunnel quick start in Python, through the provider plugin and its generated SDK.

Both keys are read from files on the machine running pulumi and passed by value, as plain
strings: the plugin keeps them secret in the state all the same. `program` is the whole
program: `pulumi up` runs this file, and the lab test (test/integration/sdk-stacks.test.ts)
runs the same function through the Automation API.
"""

import pulumi
import pulumi_shared_tunnel as shared_tunnel


def read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def program() -> None:
    config = pulumi.Config()
    shared = shared_tunnel.GatedTunnel(
        "shared",
        connection=shared_tunnel.ConnectionArgs(
            host=config.require("tunnelHost"),
            user=config.get("tunnelHostUser") or "root",
            private_key=read(config.require("tunnelHostKeyFile")),
            host_key=config.require("tunnelHostKey"),  # pinned; anything else is refused
        ),
        gateway=shared_tunnel.GatewayArgs(  # as the tunnel host sees it
            host=config.require("gatewayHost"),
            user=config.require("gatewayUser"),
            private_key=read(config.require("gatewayKeyFile")),
            host_key=config.require("gatewayHostKey"),
        ),
        bind_address=config.require("bindAddress"),  # the trusted interface of the tunnel host
        bind_port=config.require_int("bindPort"),
        target_host=config.require("targetHost"),  # as the gateway sees it
        target_port=config.require_int("targetPort"),
        sources=[config.require("source")],  # who may connect
    )
    pulumi.export("url", shared.url)
    pulumi.export("ruleTag", shared.rule_tag)
    pulumi.export("pid", shared.pid)


if __name__ == "__main__":
    program()
