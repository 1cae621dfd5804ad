// P3 under controlled scheduling: two workers, every interleaving of their bucket and agent calls.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { handleMessage } from "../handler/consume.ts";
import { subjectFor, toNodeSnapshot, type BerthEvent } from "../schemas/index.ts";
import { bytesOf, event, handlerDeps, memoryAgent, memoryBucket, message } from "./builders.ts";
import { forEverySchedule, gated, runScheduled, seeded } from "./scheduler.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);
const start = (t: bigint, id = A) => event({ timeNano: t, container: { id, name: "svc4" } });
const stop = (t: bigint, id = A) =>
  event({ type: "io.berth.container.stopped", timeNano: t, container: { id, name: "svc4", exitCode: 137 } });

/** Runs each worker's messages in order, the workers interleaved as `choose` says; returns the agent. */
async function schedule(perWorker: BerthEvent[][], choose: (n: number) => number) {
  const agent = memoryAgent();
  const bucket = memoryBucket();
  const trace = await runScheduled((gate) => {
    const g = gated(bucket, agent, gate);
    const { deps } = handlerDeps(g.agent, {
      bucket: g.bucket,
      deadLetter: () => Promise.reject(new assert.AssertionError({ message: "nothing is dead-lettered" })),
    });
    return perWorker.map((events, i) => ({
      name: `w${i + 1}`,
      body: async () => {
        for (const e of events) {
          const { msg, settled } = message(subjectFor("berth", e), bytesOf(e));
          await handleMessage(deps, msg);
          assert.deepEqual(settled, { acked: 1, naks: [] });
        }
      },
    }));
  }, choose);
  return { agent, trace };
}

const registered = (agent: ReturnType<typeof memoryAgent>, id = A) =>
  [...agent.services_.values()].filter((s) => s.Meta?.["berth_container"] === id).length;

describe("ordering", () => {
  test("ordering - a start and its stop on two workers: in every interleaving the service ends gone", async (t) => {
    for (const split of [
      [[start(1n)], [stop(2n)]],
      [[stop(2n)], [start(1n)]],
    ]) {
      const schedules = await forEverySchedule(async (choose) => {
        const { agent, trace } = await schedule(split, choose);
        assert.equal(registered(agent), 0, trace.join(" "));
      });
      assert.ok(schedules > 100, `explored ${schedules} schedules`);
      t.diagnostic(`${schedules} schedules explored`);
    }
  });

  test("ordering - start/stop/start/stop of one container over two workers, 3,000 seeded schedules per split", async () => {
    const events = [start(1n), stop(2n), start(3n), stop(4n)];
    const splits = [
      [
        [0, 2],
        [1, 3],
      ],
      [
        [0, 1],
        [2, 3],
      ],
      [
        [3, 2],
        [1, 0],
      ],
      [
        [0, 3],
        [2, 1],
      ],
    ];
    for (const [i, split] of splits.entries()) {
      for (let seed = 0; seed < 750; seed++) {
        const { agent, trace } = await schedule(
          split.map((w) => w.map((k) => events[k]!)),
          seeded(seed * 31 + i),
        );
        assert.equal(registered(agent), 0, `split ${i} seed ${seed}: ${trace.join(" ")}`);
      }
    }
  });

  test("ordering - when the last event is a start, the service ends registered in every schedule tried", async () => {
    const events = [start(1n), stop(2n), start(3n)];
    for (let seed = 0; seed < 1000; seed++) {
      const { agent, trace } = await schedule([[events[0]!, events[2]!], [events[1]!]], seeded(seed));
      assert.equal(registered(agent), 1, `seed ${seed}: ${trace.join(" ")}`);
    }
  });

  test("ordering - starts that have just happened (registered while their state is recorded): every interleaving with the stop ends gone, and 3,000 schedules of start/stop/start/stop too", async (t) => {
    // Docker's clock at each run (so every run takes the same path): the handler registers such a start beside recording it.
    const fresh = () => {
      const now = BigInt(Date.now()) * 1_000_000n;
      return [start(now + 1n), stop(now + 2n), start(now + 3n), stop(now + 4n)];
    };
    for (const split of [
      [[0], [1]],
      [[1], [0]],
    ]) {
      const schedules = await forEverySchedule(async (choose) => {
        const events = fresh();
        const { agent, trace } = await schedule(
          split.map((w) => w.map((k) => events[k]!)),
          choose,
        );
        assert.equal(registered(agent), 0, trace.join(" "));
      });
      t.diagnostic(`${schedules} schedules explored`);
    }
    for (let seed = 0; seed < 3000; seed++) {
      const events = fresh();
      const order =
        seed % 2 === 0
          ? [
              [0, 2],
              [1, 3],
            ]
          : [
              [3, 0],
              [2, 1],
            ];
      const { agent, trace } = await schedule(
        order.map((w) => w.map((k) => events[k]!)),
        seeded(seed),
      );
      assert.equal(registered(agent), 0, `seed ${seed}: ${trace.join(" ")}`);
    }
    for (let seed = 0; seed < 1000; seed++) {
      const events = fresh();
      const { agent, trace } = await schedule([[events[0]!, events[2]!], [events[1]!]], seeded(seed));
      assert.equal(registered(agent), 1, `the last a start, seed ${seed}: ${trace.join(" ")}`);
    }
  });

  test("ordering - a start of now late on one worker while another records its stop and a snapshot that prunes it: the service ends gone (2,000 seeded schedules)", async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const snapshot = toNodeSnapshot({ name: "node3", hostIp: "10.0.0.3" }, now + 5n, []);
    for (let seed = 0; seed < 2000; seed++) {
      const { agent, trace } = await schedule([[start(now + 1n)], [stop(now + 2n), snapshot]], seeded(seed));
      assert.equal(registered(agent), 0, `seed ${seed}: ${trace.join(" ")}`);
    }
  });

  test("ordering - two incarnations of one container name never remove each other's services (2,000 seeded schedules)", async () => {
    for (let seed = 0; seed < 2000; seed++) {
      const { agent, trace } = await schedule([[start(1n, A), stop(3n, A)], [start(2n, B)]], seeded(seed));
      assert.deepEqual([registered(agent, A), registered(agent, B)], [0, 1], `seed ${seed}: ${trace.join(" ")}`);
    }
  });
});
