import { join } from "node:path";
import { hostScript } from "../host/host-script";

/**
 * still-ours.sh: the identity check a host program of ours makes right before it signals a pid
 * (owner, not a zombie, start time, argv byte for byte), handed to it as text, since a program
 * sent as `sh -c` has no file of ours on the host to share. The provider's own check before a
 * signal it sends itself is readProcessIdentity (process-identity.ts).
 */
export const STILL_OURS = hostScript(join(__dirname, "still-ours.sh"));
