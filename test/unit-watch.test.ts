// The emitter's watch loop: inspects run ahead of the event being published, yet events are
// published in the order Docker sent them.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { createLogger } from "../common/log.ts";
import type { ContainerInspect, DockerEvent, DockerSource } from "../emitter/docker.ts";
import { watchDocker } from "../emitter/watch.ts";
import type { BerthEvent } from "../schemas/index.ts";
import { waitFor } from "./harness/wait.ts";

const running = JSON.parse(readFileSync("test/fixtures/inspect-running.json", "utf8")) as ContainerInspect;
const ids = ["a", "b", "c", "d"].map((c) => c.repeat(64));
const dockerEvent = (id: string, Action: string, timeNano: number, Attributes: Record<string, string> = { name: "x" }): DockerEvent => ({
  Type: "container",
  Action,
  Actor: { ID: id, Attributes },
  time: Math.floor(timeNano / 1e9),
  timeNano,
});

test("watch - a slow inspect does not hold back the next ones, and events are published in Docker's order", async () => {
  const stop = new AbortController();
  const inspects: string[] = [];
  let releaseFirst!: () => void;
  const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
  const events = [
    dockerEvent(ids[0]!, "start", 1e9),
    dockerEvent(ids[1]!, "die", 2e9, { name: "y", exitCode: "0" }),
    dockerEvent(ids[2]!, "start", 3e9),
    dockerEvent(ids[3]!, "start", 4e9),
  ];
  const docker = {
    openEvents() {
      return Promise.resolve(
        // eslint-disable-next-line @typescript-eslint/require-await -- an async generator is what makes the listed events an AsyncIterable, as Docker's stream is
        (async function* () {
          yield* events;
        })(),
      );
    },
    async inspect(id: string) {
      inspects.push(id);
      if (id === ids[0]) await firstHeld; // Docker's lock on a container being started, say
      return { ...running, Id: id };
    },
    runningIds: () => Promise.resolve([]),
  } as unknown as DockerSource;
  const published: string[] = [];
  const watching = watchDocker({
    docker,
    publish: (e: BerthEvent) => {
      if (e.type === "io.berth.node.snapshot") return Promise.resolve();
      published.push(`${e.type.slice("io.berth.container.".length)} ${e.subject.slice(0, 1)}`);
      if (published.length === events.length) stop.abort();
      return Promise.resolve();
    },
    node: { name: "node3" },
    labelPrefixes: [],
    log: createLogger("emitter", "silent"),
    signal: stop.signal,
  });
  await waitFor(() => inspects.includes(ids[3]!), { what: "the later containers inspected while the first is held", timeoutMs: 5000 });
  assert.deepEqual(published, [], "nothing overtakes the held first event");
  releaseFirst();
  await watching;
  assert.deepEqual(published, ["started a", "stopped b", "started c", "started d"]);
  assert.deepEqual(inspects, [ids[0], ids[2], ids[3]], "the die is not inspected");
});
