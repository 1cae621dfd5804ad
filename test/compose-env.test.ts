// compose.yaml, alone and with compose.cluster.yaml over it: every variable the stack sets for the
// emitter and the handlers is one the programs read (measured: their own config loaders run on the
// resolved environment), with a value they accept; the variables whose defaults cannot work inside
// the stack are set and wired to the right services — NATS_URL to every NATS server of the stack,
// BERTH_REPLICAS to their number, each handler's agent for BERTH_NODE to that node's Consul agent,
// DOCKER_HOST to the mounted socket — and the healthchecks ask /readyz (ready, not just alive) on
// each process's own metrics port.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { loadEmitterConfig } from "../emitter/config.ts";
import { agentEntryFor } from "../consul/agents.ts";
import { agentDirectory, loadHandlerConfig } from "../handler/config.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import {
  ENV,
  PROGRAMS,
  STACKS,
  available,
  berthServices,
  hostNetwork,
  natsServers,
  portText,
  readBy,
  resolved,
  stackName,
  type Service,
} from "./compose-fixture.ts";

const LOOPBACK = /\b(127\.\d+\.\d+\.\d+|localhost|\[::1\])\b/;
/** A Consul agent's HTTP port: -http-port, else Consul's default 8500. */
const consulHttpPort = (svc: Service) => svc.command?.find((a) => a.startsWith("-http-port="))?.split("=")[1] ?? "8500";

describe("compose", () => {
  after(cleanupAll);

  for (const files of STACKS) {
    const stack = stackName(files);

    test(`compose - ${stack}: every variable set for the emitter and the handlers is one the program reads, with a value it accepts`, (t) => {
      if (!available(t)) return;
      for (const { name, program, env } of berthServices(resolved(ENV, files).services)) {
        const { read } = readBy(PROGRAMS[program], env); // throws a ConfigError listing every bad value
        const unread = Object.keys(env).filter((key) => !read.has(key));
        assert.deepEqual(unread, [], `${name}: compose sets variables ${program} never reads`);
      }
    });

    test(`compose - ${stack}: what has no working default inside the stack is set, and wired to the right service`, (t) => {
      if (!available(t)) return;
      const { services } = resolved(ENV, files);
      /** The service an URL reaches from `from`: by name on compose's network, or on 127.0.0.1 from the host's. */
      const reached = (from: Service, url: string): [string, Service] | undefined => {
        const { hostname, port } = new URL(url);
        if (!hostNetwork(from)) return Object.hasOwn(services, hostname) ? [hostname, services[hostname]!] : undefined;
        if (!LOOPBACK.test(hostname)) return undefined;
        return Object.entries(services).find(
          ([, svc]) =>
            (hostNetwork(svc) && svc.command?.includes("-client=127.0.0.1") && consulHttpPort(svc) === port) ||
            svc.ports?.map(portText).some((p) => p.startsWith(`127.0.0.1:${port}:`)),
        );
      };
      const servers = natsServers(services).map(([name]) => name);
      const berth = berthServices(services);
      for (const { name, svc, program, env } of berth) {
        // A default naming loopback points at the program's own container: set it (in the host's network, explicitly).
        const defaults = readBy(PROGRAMS[program], {}).config as Record<string, unknown>;
        for (const [key, value] of Object.entries(defaults)) {
          if (typeof value === "string" && LOOPBACK.test(value))
            assert.ok(key in env, `${name}: ${key} defaults to ${value}, compose must set it`);
        }
        // NATS_URL names every server (a process fails over to any), each reached from where the process runs.
        const named = env["NATS_URL"]!.split(",").map((url) => {
          const nats = reached(svc, url);
          assert.ok(nats?.[1].command?.includes("-js"), `${name}: ${url} (of NATS_URL) reaches a JetStream server`);
          return nats![0];
        });
        assert.deepEqual([...named].sort(), servers, `${name}: NATS_URL names every NATS server of the stack, once`);
        // As many replicas as servers: one where there is one server, three on the cluster, so losing one loses nothing.
        const config = PROGRAMS[program](env) as { BERTH_REPLICAS: number };
        assert.equal(config.BERTH_REPLICAS, servers.length, `${name}: BERTH_REPLICAS`);
        // The healthcheck asks /readyz (503 until NATS, and for the emitter Docker, are there) on the metrics port.
        const port = env["BERTH_METRICS_PORT"];
        assert.ok(port, `${name}: BERTH_METRICS_PORT is set (healthcheck and /metrics)`);
        assert.ok(
          svc.healthcheck!.test!.join(" ").includes(`127.0.0.1:${port}/readyz`),
          `${name}: the healthcheck asks /readyz on ${port}`,
        );
        if (hostNetwork(svc)) assert.equal(env["BERTH_METRICS_ADDRESS"], "127.0.0.1", `${name}: its metrics on loopback only`);
        else
          assert.ok(
            svc.ports?.map(portText).some((p) => p.endsWith(`:${port}/tcp`) || p.endsWith(`:${port}`)),
            `${name}: ${port} is published (on loopback)`,
          );
      }
      assert.equal(new Set(berth.map((b) => b.env["BERTH_METRICS_PORT"])).size, berth.length, "one metrics port each");
      // The emitter speaks for a node; every handler must reach that node's agent, a Consul agent of that name.
      const emitter = loadEmitterConfig(services.emitter!.environment ?? {});
      assert.ok(emitter.BERTH_NODE, "BERTH_NODE is set: Docker's engine name in a container is not the Consul node's name");
      for (const { name, svc, program, env } of berth) {
        if (program !== "handler") continue;
        const url: string | undefined = agentEntryFor(agentDirectory(loadHandlerConfig(env)), emitter.BERTH_NODE)?.url;
        assert.ok(url, `${name} has an agent for ${emitter.BERTH_NODE}`);
        const agent = reached(svc, url);
        assert.ok(
          agent?.[1].command?.includes(`-node=${emitter.BERTH_NODE}`),
          `${name}: ${url} is the Consul agent of ${emitter.BERTH_NODE}`,
        );
      }
      const socket = new URL(emitter.DOCKER_HOST).pathname;
      assert.ok(
        services.emitter!.volumes?.some((v) => v.split(":")[1] === socket),
        `DOCKER_HOST ${socket} is the mounted socket`,
      );
    });
  }
});
