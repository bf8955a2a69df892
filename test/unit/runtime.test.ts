import { CorruptStateError } from "../../provider/errors";
import * as runtime from "../../provider/runtime";

// Stacks created by older versions call these by name from their saved state.
test.each(["tunnel", "firewall"] as const)("runtime's %s has all six lifecycle methods", (kind) => {
  for (const method of ["check", "diff", "create", "read", "update", "delete"] as const) expect(typeof runtime[kind][method]).toBe("function");
});

test.each(["tunnel", "firewall"] as const)("%s read without saved state is refused before anything runs", async (kind) => {
  await expect(runtime[kind].read("id")).rejects.toThrow(CorruptStateError);
});
