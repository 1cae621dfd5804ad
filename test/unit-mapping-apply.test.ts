// The mapping settings reach the agent: handleMessage → applyToAgent → servicesFor.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { handleMessage } from "../handler/consume.ts";
import type { MappingSettings } from "../mapping/settings.ts";
import { subjectFor, type ContainerEvent } from "../schemas/index.ts";
import { bytesOf, event, handlerDeps, memoryAgent, message, settings } from "./builders.ts";

function setup(mapping: MappingSettings) {
  const agent = memoryAgent();
  const { deps } = handlerDeps(agent, {
    deadLetter: () => Promise.reject(new assert.AssertionError({ message: "nothing is dead-lettered here" })),
    mapping,
  });
  const send = async (e: ContainerEvent) => {
    const { msg, settled } = message(subjectFor("berth", e), bytesOf(e));
    await handleMessage(deps, msg);
    assert.equal(settled.acked, 1);
  };
  return { agent, send };
}

const start = event({ timeNano: 1n });
const stop = (exitCode: number) => event({ type: "io.berth.container.stopped", timeNano: 2n, container: { exitCode, ports: [] } });

describe("mapping apply", () => {
  test("mapping apply - on-success: exit 1 leaves the services registered and calls nothing", async () => {
    const { agent, send } = setup(settings({ deregister: "on-success" }));
    await send(start);
    const calls = agent.calls.length;
    await send(stop(1));
    assert.equal(agent.services_.size, 1);
    assert.equal(agent.calls.length, calls);
  });

  test("mapping apply - on-success: exit 137 removes the services", async () => {
    const { agent, send } = setup(settings({ deregister: "on-success" }));
    await send(start);
    await send(stop(137));
    assert.equal(agent.services_.size, 0);
  });

  test("mapping apply - always: exit 1 removes the services", async () => {
    const { agent, send } = setup(settings());
    await send(start);
    await send(stop(1));
    assert.equal(agent.services_.size, 0);
  });

  test("mapping apply - the handler's settings shape what is registered", async () => {
    const { agent, send } = setup(settings({ tags: ["dc1"], internal: true }));
    await send(event({ container: { networkMode: "bridge", networks: { bridge: { ipv4: "172.17.0.5" } } } }));
    const [svc] = agent.services_.values();
    assert.deepEqual([svc?.Address, svc?.Port, svc?.Tags], ["172.17.0.5", 8080, ["dc1"]]);
  });
});
