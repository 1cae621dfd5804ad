// What applying one container's state did at its agent, service IDs by outcome: the apply's answer
// (apply.ts), carried by a refusal's error too (fallback.ts).
/** `kept`: the mapping asked to leave the services as they are (on-success policy); `refused`: refused for good. */
export type Applied = {
  registered: string[];
  unchanged: string[];
  deregistered: string[];
  kept: boolean;
  warnings: string[];
  refused: string[];
};
