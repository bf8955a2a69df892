/**
 * Writes the provider plugin's schema.json (dist/provider/plugin/, beside the plugin) from the one
 * declaration of the inputs: provider/types.ts and host/remote-connection.ts, read with the
 * TypeScript compiler, their TSDoc the descriptions. Run by `npm run build`; never edited by hand.
 * test/unit/plugin/schema.test.ts fails when the shipped schema and the sources disagree.
 *
 * From the declarations: optional or required, `number | string` and `string | true` as oneOf,
 * `Integer` as integer, `@secret` as secret. Fields the resources or the plugin fill in, or keep
 * for their own diff, are left out (INTERNAL).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as ts from "typescript";

const ROOT = resolve(__dirname, "../..");
const PKG = "shared-tunnel";
const INTERNAL = new Set([
  "owner",
  "identity",
  "progressUrn",
  "preflightFor",
  "gatesForwardsOf",
  "processStartTicks",
  "keeperStartTicks",
  "requestedExpiresAt",
  "requestedBackend",
]);
/** The schema's name of each nested shape; a new one must be named here. */
const TYPE_NAMES: Record<string, string> = {
  ConnectionArgs: "Connection",
  SshEndpointArgs: "ConnectionJumpHost",
  GatewayArgs: "Gateway",
  JumpHostArgs: "GatewayJumpHost",
  FirewallRule: "FirewallRule",
  SourceAttempts: "SourceAttempts",
  LastConnection: "LastConnection",
};
/** Which properties of which shapes make each resource; `only` picks some, `except` leaves some out. */
type Part = { from: string; only?: string[]; except?: string[] };
const RESOURCES: Record<string, { component?: true; inputs: Part[]; outputs: Part[] }> = {
  SharedTunnel: { inputs: [{ from: "TunnelInputs" }], outputs: [{ from: "TunnelOutputs" }] },
  FirewallAllow: { inputs: [{ from: "FirewallInputs" }], outputs: [{ from: "FirewallOutputs" }] },
  GatedTunnel: {
    component: true,
    inputs: [
      { from: "TunnelInputs", except: ["gateTag"] },
      { from: "FirewallInputs", only: ["sources", "backend"] },
    ],
    outputs: [
      { from: "TunnelOutputs", only: ["url", "listenAddress", "pid", "expiresAt"] },
      { from: "FirewallOutputs", only: ["ruleTag"] },
    ],
  },
};

type Spec = Record<string, unknown>;

export function generateSchema(root = ROOT): Spec {
  const files = [
    "provider/types.ts",
    "provider/resources/shared-tunnel.ts",
    "provider/resources/firewall-allow.ts",
    "provider/resources/gated-tunnel.ts",
  ];
  const program = ts.createProgram(
    files.map((f) => join(root, f)),
    { strict: true, skipLibCheck: true, noEmit: true },
  );
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(join(root, "provider/types.ts"));
  if (!source) throw new Error("gen-schema: provider/types.ts not found");
  const shapes = new Map<string, ts.Type>();
  ts.forEachChild(source, (node) => {
    if (ts.isInterfaceDeclaration(node)) shapes.set(node.name.text, checker.getTypeAtLocation(node));
  });
  const types: Record<string, Spec> = {};

  const docOf = (symbol: ts.Symbol) =>
    ts
      .displayPartsToString(symbol.getDocumentationComment(checker))
      .replace(/\s*\n\s*/g, " ")
      .trim();

  function schemaOf(type: ts.Type, decl: ts.Declaration | undefined): Spec {
    const typeNode = decl && (ts.isPropertySignature(decl) || ts.isPropertyDeclaration(decl)) ? decl.type : undefined;
    if (typeNode && ts.isTypeReferenceNode(typeNode) && typeNode.typeName.getText() === "Integer") return { type: "integer" };
    const members = (type.isUnion() ? type.types : [type]).filter((t) => !(t.flags & ts.TypeFlags.Undefined));
    const kinds = [...new Map(members.map((t) => [JSON.stringify(single(t)), single(t)])).values()];
    return kinds.length === 1 ? kinds[0] : { oneOf: kinds };
  }

  function single(t: ts.Type): Spec {
    if (t.flags & (ts.TypeFlags.String | ts.TypeFlags.StringLiteral)) return { type: "string" };
    if (t.flags & (ts.TypeFlags.Number | ts.TypeFlags.NumberLiteral)) return { type: "number" };
    if (t.flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) return { type: "boolean" };
    if (checker.isArrayType(t)) return { type: "array", items: schemaOf(checker.getTypeArguments(t as ts.TypeReference)[0], undefined) };
    const name = t.getSymbol()?.getName() ?? "";
    const named = TYPE_NAMES[name];
    if (!named) throw new Error(`gen-schema: no schema name for the shape ${checker.typeToString(t)}: add it to TYPE_NAMES`);
    if (!types[`${PKG}:index:${named}`]) {
      types[`${PKG}:index:${named}`] = { type: "object" }; // placeholder: shapes may nest
      types[`${PKG}:index:${named}`] = { type: "object", ...objectOf([{ from: "", type: t }]) };
    }
    return { $ref: `#/types/${PKG}:index:${named}` };
  }

  function objectOf(parts: (Part & { type?: ts.Type })[]): { description?: string; properties: Spec; required?: string[] } {
    const properties: Spec = {};
    const required: string[] = [];
    for (const part of parts) {
      const type = part.type ?? shapes.get(part.from);
      if (!type) throw new Error(`gen-schema: no interface ${part.from} in provider/types.ts`);
      for (const symbol of checker.getPropertiesOfType(type)) {
        const key = symbol.getName();
        if (INTERNAL.has(key) || (part.only && !part.only.includes(key)) || part.except?.includes(key)) continue;
        const decl = symbol.declarations?.[0];
        const secret = symbol.getJsDocTags(checker).some((tag) => tag.name === "secret");
        const description = docOf(symbol);
        properties[key] = {
          ...schemaOf(checker.getTypeOfSymbol(symbol), decl),
          ...(description ? { description } : {}),
          ...(secret ? { secret: true } : {}),
        };
        if (!(symbol.flags & ts.SymbolFlags.Optional)) required.push(key);
      }
    }
    return { properties, ...(required.length ? { required } : {}) };
  }

  const classDoc = (name: string) => {
    for (const file of files.slice(1)) {
      const sf = program.getSourceFile(join(root, file));
      const cls = sf?.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === name);
      const symbol = cls?.name && checker.getSymbolAtLocation(cls.name);
      if (symbol) return docOf(symbol);
    }
    return "";
  };

  const resources: Record<string, Spec> = {};
  for (const [name, spec] of Object.entries(RESOURCES)) {
    const inputs = objectOf(spec.inputs);
    const outputs = objectOf(spec.outputs);
    resources[`${PKG}:index:${name}`] = {
      description: classDoc(name),
      ...(spec.component ? { isComponent: true } : {}),
      inputProperties: inputs.properties,
      ...(inputs.required ? { requiredInputs: inputs.required } : {}),
      properties: outputs.properties,
      ...(outputs.required ? { required: outputs.required } : {}),
    };
  }
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  return {
    name: PKG,
    displayName: "Shared Tunnel",
    version,
    description: "An SSH local forward on a tunnel host, shared with trusted sources behind a host-firewall rule.",
    license: "Apache-2.0",
    // supportPack: the SDKs carry this version and ask the engine for exactly this plugin
    // (scripts/gen-sdk); Python as a pyproject.toml package, no setup.py that downloads a plugin.
    meta: { supportPack: true },
    language: { python: { packageName: "pulumi_shared_tunnel", pyproject: { enabled: true } } },
    resources,
    types: Object.fromEntries(Object.entries(types).sort(([a], [b]) => a.localeCompare(b))),
  };
}

if (require.main === module) {
  const out = process.argv[2] ?? join(ROOT, "dist/provider/plugin/schema.json");
  writeFileSync(out, JSON.stringify(generateSchema(), null, 2) + "\n");
}
