import { readFileSync } from "node:fs";
import * as path from "node:path";
import { renderResourceDocs } from "../../../scripts/gen-resource-docs";
import { generateSchema } from "../../../scripts/gen-schema";

/*
 * docs/resources.md is rendered from the plugin's schema, itself generated from provider/types.ts:
 * the committed page must be what the sources say now. When this fails, run
 * `npm run build && npm run docs` and commit docs/resources.md.
 */
const ROOT = path.resolve(__dirname, "../../../..");
const committed = readFileSync(path.join(ROOT, "docs/resources.md"), "utf8");
const fresh = renderResourceDocs(generateSchema(ROOT) as unknown as Parameters<typeof renderResourceDocs>[0]);

test("the committed docs/resources.md is the one the schema renders", () => {
  expect(committed).toBe(fresh);
});

test("every resource and type has its section, every input its row, secrets marked", () => {
  const schema = generateSchema(ROOT) as unknown as {
    resources: Record<string, { inputProperties: Record<string, unknown>; properties: Record<string, unknown> }>;
    types: Record<string, { properties: Record<string, { secret?: boolean }> }>;
  };
  for (const [token, r] of Object.entries(schema.resources)) {
    const name = token.split(":").pop();
    expect(fresh).toContain(`## ${name}\n`);
    for (const key of [...Object.keys(r.inputProperties), ...Object.keys(r.properties)]) expect(fresh).toContain(`| \`${key}\` |`);
  }
  for (const token of Object.keys(schema.types)) expect(fresh).toContain(`### ${token.split(":").pop()}\n`);
  expect(fresh).toMatch(/\| `privateKey` \| string \| {2}\| yes \|/);
  expect(fresh).toContain("| `connection` | [Connection](#connection) |");
  expect(fresh).toContain("| `expiresAfter` | string \\| number |");
});
