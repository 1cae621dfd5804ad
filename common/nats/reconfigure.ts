// Bringing what exists to the settings the operator set: the fields that differ, updated in place,
// each change or refusal said in one line (common/nats/setup.ts).
import type { StreamSettings, StreamSettingName } from "./settings.ts";

/** One line for the log about what set-up did or could not do. */
export type SetupNote = { level: "info" | "warn"; text: string };

/** A stream (or consumer) field, the value wanted, and the setting that wants it. */
export type Wanted<T> = { [K in keyof T]?: { value: T[K]; setting: StreamSettingName } };

export const valueOf = <T>(wanted: Wanted<T>) =>
  Object.fromEntries(Object.entries(wanted).map(([k, w]) => [k, (w as { value: unknown }).value])) as Partial<T>;

/** The fields that differ from what is wanted, among the settings the operator set. */
function differences<T extends object>(current: T, wanted: Wanted<T>, enforced: ReadonlySet<StreamSettingName>) {
  const out: { field: string; from: unknown; to: unknown; setting: StreamSettingName }[] = [];
  for (const [field, w] of Object.entries(wanted) as [string, { value: unknown; setting: StreamSettingName }][]) {
    const from = (current as Record<string, unknown>)[field];
    if (enforced.has(w.setting) && from !== w.value) out.push({ field, from, to: w.value, setting: w.setting });
  }
  return out;
}

/** Updates what exists to the settings the operator set; a refusal is one clear line, never a silent mismatch. */
export async function bringTo<T extends object>(
  what: string,
  current: T,
  wanted: Wanted<T>,
  s: StreamSettings,
  notes: SetupNote[],
  update: (config: T) => Promise<unknown>,
) {
  const diff = differences(current, wanted, s.enforced);
  if (diff.length === 0) return;
  const change = diff.map((d) => `${d.field} ${String(d.from)} → ${String(d.to)} (${d.setting})`).join(", ");
  try {
    await update({ ...current, ...Object.fromEntries(diff.map((d) => [d.field, d.to])) });
    notes.push({ level: "info", text: `${what}: ${change}` });
  } catch (err) {
    notes.push({ level: "warn", text: `${what}: cannot change ${change}; it stays as it is: ${(err as Error).message}` });
  }
}
