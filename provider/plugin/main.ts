/**
 * The provider plugin's entry point, run by the `pulumi-resource-shared-tunnel` launcher: serves
 * SharedTunnel, FirewallAllow and GatedTunnel to programs in any language over Pulumi's provider
 * protocol. The schema beside it is written by the build from provider/types.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { leaveWithEngine } from "../dynamic/engine/engine-watch";
import { SharedTunnelProvider } from "./provider";

const { version } = JSON.parse(readFileSync(join(__dirname, "../../../package.json"), "utf8")) as { version: string };
const schema = readFileSync(join(__dirname, "schema.json"), "utf8");

// Like the dynamic providers' runtime: this process leaves when its engine is gone.
leaveWithEngine();
void pulumi.provider.main(new SharedTunnelProvider(version, schema), process.argv.slice(2));
