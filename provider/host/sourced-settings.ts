import { InternalError } from "../errors";
import { quoteArgv } from "./quote";

/**
 * The settings file a host program of ours (keeper.sh, watchdog.sh) sources before it runs: a
 * comment line, then `name='value'` lines, every value quoted by the one quoting function, so
 * the file holds values only and the program's text stays the same for every resource.
 */
export function renderSettings(comment: string, values: [string, string][]): string {
  return [`# ${comment}`, ...values.map(([k, v]) => `${k}=${quoteArgv([v])}`), ""].join("\n");
}

/**
 * A list value: items one a line, as the programs split them (IFS a newline). An item with a
 * newline in it would be two, so none may have one; `what` names the settings for the error.
 */
export function settingsList(items: string[], what: string): string {
  const bad = items.find((i) => i.includes("\n"));
  if (bad !== undefined) throw new InternalError(`${JSON.stringify(bad)} has a newline in it`, what);
  return items.join("\n");
}
