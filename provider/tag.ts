import { createHash } from "node:crypto";
import { UnsafeValueError, ValidationError } from "./errors";

/**
 * Tags name what we made on a host: "pst.<project>.<stack>.<name>.<identity>.<unix seconds>".
 * They go into the ssh process's argv (its -E log path), file names and firewall rule comments,
 * so orphans can be found: everything carrying a resource's owner prefix and not recorded in its
 * state is one. The identity, a hash of the resource's URN, is what makes a prefix one resource's
 * own: project, stack and name alone are shared by resources of different types or parents.
 * Tags made before the identity existed ("pst.<project>.<stack>.<name>.<unix seconds>") still parse.
 */

/**
 * nft comments and `assertTag` allow 128 characters.
 * @internal exported for its unit tests
 */
export const TAG_MAX_LENGTH = 128;
const IDENTITY_LENGTH = 12;
/** Unix seconds: 11 digits last until the year 5138. */
const SECONDS_ROOM = 11;
/** What every tag and owner prefix starts with. */
const TAG_PREFIX = "pst.";
/** A tag as it appears in argv and file names ("pst." then tag-safe text), for building larger patterns. */
export const TAG_TEXT = "pst\\.[A-Za-z0-9_.-]+";

/**
 * Returns `tag` when it is plain words (what a tag or owner prefix is made of), else throws: tags
 * become nft comments inside generated ruleset text and words of sh scripts, so nothing else may pass.
 */
export function assertTag(tag: string): string {
  if (!new RegExp(`^[A-Za-z0-9_.-]{1,${TAG_MAX_LENGTH}}$`).test(tag))
    throw new UnsafeValueError(`unsafe rule tag ${JSON.stringify(tag)}`, {
      what: "use a tag",
      hint: "tags are made by this provider and validated in saved state, so saved state or a host's listing held this one: check who changed them",
    });
  return tag;
}

/** Whether `text` carries our mark ("pst." first): a candidate for parseTag, not yet proof it is ours. */
export function hasTagPrefix(text: string): boolean {
  return text.startsWith(TAG_PREFIX);
}

/**
 * Whether `tag` is selected by `tagOrPrefix`: a tag ("pst....123") selects only itself, an owner
 * prefix ("pst....<identity>.", ending in a dot) every tag of that one resource.
 */
export function tagMatches(tag: string, tagOrPrefix: string): boolean {
  return isOwnerPrefix(tagOrPrefix) ? tag.startsWith(tagOrPrefix) : tag === tagOrPrefix;
}

/** An owner prefix ends in the dot before the creation time; a whole tag ends in a digit. */
export function isOwnerPrefix(tagOrPrefix: string): boolean {
  return tagOrPrefix.endsWith(".");
}

/**
 * The file path "<dir>/<tag><suffix>" as a RegExp capturing the directory (1) and the tag (2);
 * `dirs` and `suffix` are regex source (dirsPattern of the state directories, an escaped extension).
 */
export function taggedPathPattern(dirs: string, suffix: string): RegExp {
  return new RegExp(`^(${dirs})/(${TAG_TEXT})${suffix}$`);
}

/** The host identity of a resource: a short hash of its full URN (type chain and parent included). */
export function identityOf(urn: string): string {
  return createHash("sha256").update(urn).digest("hex").slice(0, IDENTITY_LENGTH);
}

/** Whether `text` is an identity as identityOf makes it. */
function isIdentity(text: unknown): text is string {
  return typeof text === "string" && new RegExp(`^[0-9a-f]{${IDENTITY_LENGTH}}$`).test(text);
}

/** Who a tag belongs to: "project/stack/name" and the resource's identity, both set by the resource class. */
export interface TagOwner {
  owner: string;
  identity?: string;
}

/** A new tag for what `who` makes now. */
export function makeTag(who: TagOwner, createdAt: Date): string {
  return ownerPrefix(who) + String(Math.floor(createdAt.getTime() / 1000));
}

/**
 * "pst.<project>.<stack>.<name>.<identity>." for owner "project/stack/name" (names may hold "/"):
 * every tag of that one resource starts with it, and no other resource's does. The name is only
 * for people reading the host: cut to what the length leaves, since the identity keeps resources apart.
 */
export function ownerPrefix({ owner, identity }: TagOwner): string {
  if (!isIdentity(identity)) {
    // Never fall back to a prefix without it: that one is shared by same-named resources.
    throw new ValidationError([
      {
        property: "identity",
        reason: `must be the ${IDENTITY_LENGTH}-hex-digit hash of the resource's URN that the resource class sets, got ${JSON.stringify(identity)}`,
      },
    ]);
  }
  const { project, stack } = ownerScope(owner);
  const name = owner.split("/").slice(2).join("/") || "resource";
  const head = ["pst", project, stack].join(".");
  const room = TAG_MAX_LENGTH - head.length - 1 - (1 + IDENTITY_LENGTH + 1 + SECONDS_ROOM);
  return `${head}.${tagSafe(name).slice(0, room)}.${identity}.`;
}

/** The project and stack of owner "project/stack/name", as tags spell them. */
export function ownerScope(owner: string): { project: string; stack: string } {
  const [project = "project", stack = "stack"] = owner.split("/");
  return { project: clean(project), stack: clean(stack) };
}

/** The parts of a tag; `identity` is undefined for tags made before identities existed. */
export interface ParsedTag {
  tag: string;
  project: string;
  stack: string;
  resource: string;
  identity?: string;
  createdUnix: number;
}

/** Reads a tag (either form; old ones can be up to 137 characters), or undefined for anything that is not one of ours. */
export function parseTag(tag: string): ParsedTag | undefined {
  const part = "([A-Za-z0-9_-]+)";
  const m = new RegExp(`^pst\\.${part}\\.${part}\\.${part}\\.(?:([0-9a-f]{${IDENTITY_LENGTH}})\\.)?(\\d{9,11})$`).exec(tag);
  if (!m) return undefined;
  return { tag, project: m[1], stack: m[2], resource: m[3], ...(m[4] ? { identity: m[4] } : {}), createdUnix: Number(m[5]) };
}

/** A stack name as tags spell it (cleaned the same way in both forms). */
export function stackPart(stack: string): string {
  return clean(stack);
}

function tagSafe(part: string): string {
  return part.replace(/[^A-Za-z0-9_-]/g, "_");
}

/**
 * Reads an owner prefix "pst.<project>.<stack>.<resource>.<identity>." (what ownerPrefix makes; the
 * identity is missing in prefixes made before it existed), or undefined. A prefix selects every
 * forward and rule of one resource: anything shorter ("pst.") would select those of every resource on the host.
 */
export function parseOwnerPrefix(prefix: string): Omit<ParsedTag, "tag" | "createdUnix"> | undefined {
  const part = "([A-Za-z0-9_-]+)";
  const m = new RegExp(`^pst\\.${part}\\.${part}\\.${part}\\.(?:([0-9a-f]{${IDENTITY_LENGTH}})\\.)?$`).exec(prefix);
  return m ? { project: m[1], stack: m[2], resource: m[3], ...(m[4] ? { identity: m[4] } : {}) } : undefined;
}

/**
 * A name as tag-safe text ([A-Za-z0-9_-]). When that changed or shortened it, a short hash of the
 * original keeps distinct names distinct ("web.1" and "web_1", or two long names with one
 * beginning), so a stack filter (`reap --stack`) matches exactly one stack's tags.
 */
function clean(part: string): string {
  const safe = tagSafe(part);
  if (safe === part && part.length > 0 && part.length <= 40) return part;
  return `${safe.slice(0, 31)}-${createHash("sha256").update(part).digest("hex").slice(0, 8)}`;
}
