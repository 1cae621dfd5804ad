// Pure: the service fields registrator never set — EnableTagOverride (gliderlabs/registrator#347)
// and Weights (Nomad's and consul-k8s' `weights`) — from their SERVICE_* keys.
import type { ServiceRegistration } from "../consul/types.ts";
import { isOn, splitList, type PortKeys, type Warn } from "./service-keys.ts";

/** Consul's bounds for DNS weights (structs.ValidateWeights). */
const WEIGHT_MAX = 65535;
const WEIGHT = /^(passing|warning)\s*=\s*(\d{1,5})$/i;

/**
 * `passing=N,warning=N`, either part optional (Consul's default for a missing one is 1). Passing is
 * 1–65535, warning 0–65535; anything else drops the whole key with a warning, since Consul would
 * refuse the registration.
 */
function weightsOf(text: string, warn: Warn): ServiceRegistration["Weights"] {
  const weights = { Passing: 1, Warning: 1 };
  for (const item of splitList(text)) {
    const m = WEIGHT.exec(item);
    const n = Number(m?.[2]);
    const kind = m?.[1]?.toLowerCase();
    if (!m || n > WEIGHT_MAX || (kind === "passing" && n < 1)) {
      warn(`SERVICE_WEIGHTS="${text}": "${item}" is not passing=1-65535 or warning=0-65535: ignored`);
      return undefined;
    }
    if (kind === "passing") weights.Passing = n;
    else weights.Warning = n;
  }
  return weights;
}

/** `EnableTagOverride` and `Weights` when their keys are given; nothing otherwise (the body stays as before). */
export function serviceFieldsFor(keys: PortKeys, warn: Warn): Pick<ServiceRegistration, "EnableTagOverride" | "Weights"> {
  const override = isOn(keys, "enable_tag_override", warn);
  const text = keys.get("weights")?.value;
  const weights = text === undefined ? undefined : weightsOf(text, warn);
  return { ...(override ? { EnableTagOverride: true } : {}), ...(weights ? { Weights: weights } : {}) };
}
