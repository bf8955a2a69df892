import * as pulumi from "@pulumi/pulumi";

/*
 * Secrets as the provider protocol carries them: the SDK's provider server hands the plugin raw
 * values, in which a secret is an envelope ({ <sig key>: <secret sig>, value }), and sends back
 * whatever the plugin returns as it is, so a secret going out must be that envelope too. The
 * lifecycle code knows nothing of either.
 */
const { specialSigKey, specialSecretSig } = pulumi.runtime;

function isSecret(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

/** The value with every secret envelope, at any depth, replaced by what it holds. */
export function unwrapSecrets<T>(value: T): T {
  if (isSecret(value)) return unwrapSecrets(value.value) as T;
  if (Array.isArray(value)) return value.map(unwrapSecrets) as T;
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)])) as T;
  return value;
}

/**
 * `props` with each of `keys` that is present wrapped, as a whole, in a secret envelope: a key
 * given as a plain string (YAML, Python) carries no secret mark of its own, and would otherwise be
 * stored in the state in plaintext.
 */
export function withSecrets(props: object, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(props as Record<string, unknown>).map(([k, v]) => [
      k,
      keys.includes(k) && v !== undefined ? { [specialSigKey]: specialSecretSig, value: v } : v,
    ]),
  );
}
