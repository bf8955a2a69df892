import { LEGACY_STATE_DIR, ROOT_STATE_DIR } from "../../provider/state/state-dir";

/** What root's state directory check prints on a sound host: for fake hosts in unit tests. */
export const STATE_DIR_OK = [
  "0",
  `0 root 700 directory|${ROOT_STATE_DIR}`,
  "0 root 755 directory|/run",
  "0 root 755 directory|/",
  `- - - missing|${LEGACY_STATE_DIR}`,
].join("\n");
