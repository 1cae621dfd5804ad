// JetStream's refusals named for what they are (issue 24): nats.js reports a write nobody answered
// as "jetstream is not enabled"; berth says which stream has no leader, and still counts it as
// trouble that passes (retried, never dead-lettered).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NoLeaderError, isTransient, leaderOrNamed } from "../common/nats/errors.ts";
import { NoRespondersError } from "../common/nats/sdk.ts";

/** What nats.js throws for a publish no stream answered: its own words, the no-responders as the cause's cause. */
const jetstreamNotEnabled = () =>
  new Error("jetstream is not enabled", {
    cause: new Error("request failed", { cause: new NoRespondersError("berth.v1.n1.container.started") }),
  });

describe("nats errors", () => {
  test("nats errors - a write nobody answered names the stream without a leader, and passes with time", async () => {
    const err = await leaderOrNamed("the events stream BERTH_EVENTS", () => Promise.reject(jetstreamNotEnabled())).catch((e: unknown) => e);
    assert.ok(err instanceof NoLeaderError);
    assert.equal(err.message, "the events stream BERTH_EVENTS has no leader (election in progress), or does not exist");
    assert.ok(isTransient(err));
  });

  test("nats errors - other failures go through as they are", async () => {
    const other = new Error("something else");
    assert.equal(await leaderOrNamed("the state bucket", () => Promise.reject(other)).catch((e: unknown) => e), other);
    assert.equal(await leaderOrNamed("the state bucket", () => Promise.resolve(7)), 7);
  });
});
