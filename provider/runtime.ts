/**
 * The implementation behind the serialized dynamic providers, loaded by module name
 * ("pulumi-shared-tunnel/runtime") inside each provider method. Keep this surface stable: stacks
 * created by an older version call it from their saved state on refresh and destroy.
 */
import { firewallProvider } from "./dynamic/firewall-provider";
import { tunnelProvider } from "./dynamic/tunnel-provider";
import { leaveWithEngine } from "./dynamic/engine/engine-watch";
import { withProgress } from "./dynamic/engine/engine-log";

// Loaded by the first provider call: from then on, this process exits when its engine is gone.
leaveWithEngine();

type WithUrn = { progressUrn?: string };

/** Each method that touches the host sends its progress lines to the resource's row. */
function showingProgress<
  P extends {
    create(i: never): unknown;
    read(id: string, p: never): unknown;
    update(id: string, o: never, n: never): unknown;
    delete(id: string, p: never): unknown;
  },
>(p: P): P {
  return {
    ...p,
    create: (inputs: WithUrn) => withProgress(inputs.progressUrn, () => p.create(inputs as never) as Promise<unknown>),
    read: (id: string, props: WithUrn) => withProgress(props.progressUrn, () => p.read(id, props as never) as Promise<unknown>),
    update: (id: string, olds: WithUrn, news: WithUrn) =>
      withProgress(news.progressUrn ?? olds.progressUrn, () => p.update(id, olds as never, news as never) as Promise<unknown>),
    delete: (id: string, props: WithUrn) => withProgress(props.progressUrn, () => p.delete(id, props as never) as Promise<unknown>),
  };
}

export const tunnel = showingProgress(tunnelProvider);
export const firewall = showingProgress(firewallProvider);
