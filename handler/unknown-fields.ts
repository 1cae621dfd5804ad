// What a handler does with the attributes and fields of a message it does not know (schemas/open.ts
// takes them out): counts them by where and name, and says so once per name at info, so an
// operator sees a newer emitter or a CloudEvents tool at work without a line per event.
import type { Logger } from "../common/log.ts";
import type { OnUnknown } from "../schemas/index.ts";
import type { HandlerMetrics } from "./metrics.ts";

/** Distinct names counted and logged one by one; any further name is counted as OTHER_NAME (bounded label values). */
export const MAX_UNKNOWN_NAMES = 100;
export const OTHER_NAME = "other";

export function unknownFieldsNoter(log: Logger, metrics: HandlerMetrics): OnUnknown {
  const seen = new Set<string>();
  let overflowed = false;
  return (where, name) => {
    let label = name;
    if (seen.has(name)) {
      // counted below, said once already
    } else if (seen.size < MAX_UNKNOWN_NAMES) {
      seen.add(name);
      log.info({ where, name }, "ignoring a field berth does not know");
    } else {
      label = OTHER_NAME;
      if (!overflowed) log.info({ where, name, names: MAX_UNKNOWN_NAMES }, "ignoring more unknown fields, counted as other");
      overflowed = true;
    }
    metrics.unknownField(where, label);
  };
}
