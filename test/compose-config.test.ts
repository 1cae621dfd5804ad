// compose.yaml, alone and with compose.cluster.yaml over it (three NATS servers clustered):
// `docker-compose config` (Debian's docker-compose) accepts each, refuses it without DOCKER_GID or
// BERTH_HOST_IP, and resolves the stack the docs describe — NATS with JetStream, each server on a
// volume of its own, node1's Consul agent in the host's network, the emitter and two handlers. The
// first run's lessons: the image is built once, ports are published on loopback only, and every
// service has a healthcheck that the services depending on it wait for.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, describe, test } from "node:test";
import { cleanupAll } from "./harness/cleanup.ts";
import {
  CLUSTER,
  DOCKER_GID,
  ENV,
  STACKS,
  available,
  berthServices,
  composeBin,
  composeConfig,
  hostNetwork,
  natsServers,
  portText,
  resolved,
  stackName,
} from "./compose-fixture.ts";

describe("compose", () => {
  after(cleanupAll);

  for (const files of STACKS) {
    const stack = stackName(files);

    test(`compose - docker-compose config accepts ${stack} and refuses it without DOCKER_GID or BERTH_HOST_IP`, (t) => {
      if (!available(t)) return;
      const version = spawnSync(composeBin()!, ["version", "--short"], { encoding: "utf8" }).stdout.trim();
      t.diagnostic(`docker-compose ${version}`);
      const ok = composeConfig(ENV, files);
      assert.equal(ok.status, 0, ok.err);
      for (const missing of ["DOCKER_GID", "BERTH_HOST_IP"] as const) {
        const r = composeConfig(Object.fromEntries(Object.entries(ENV).filter(([k]) => k !== missing)), files);
        assert.notEqual(r.status, 0, `${missing} is required`);
        assert.match(r.err, new RegExp(missing));
      }
    });

    test(`compose - ${stack}: NATS with JetStream, each server on a volume of its own, node1's Consul agent in the host's network, the emitter, two handlers`, (t) => {
      if (!available(t)) return;
      const { services, volumes } = resolved(ENV, files);
      const servers = natsServers(services);
      const expected = files === CLUSTER ? ["nats", "nats-2", "nats-3"] : ["nats"];
      assert.deepEqual(
        servers.map(([name]) => name),
        expected,
      );
      assert.deepEqual(Object.keys(services).sort(), ["berth", "consul", "emitter", "handler", "handler-2", ...expected].sort());

      const stores = servers.map(([name, nats]) => {
        assert.deepEqual(nats.command?.slice(0, 3), ["-js", "-sd", "/data"], name);
        const volume = nats.volumes?.find((v) => v.split(":")[1] === "/data")?.split(":")[0];
        assert.ok(volume && Object.hasOwn(volumes ?? {}, volume), `${name}: its JetStream store is a named volume`);
        return volume;
      });
      assert.equal(new Set(stores).size, servers.length, "one store each");

      const consul = services.consul!;
      assert.ok(hostNetwork(consul), "the agent runs in the host's network namespace, as a node agent does in production");
      assert.ok(consul.command?.includes("-node=node1"));
      for (const flag of ["-bind=127.0.0.1", "-client=127.0.0.1"]) assert.ok(consul.command?.includes(flag), `${flag}: loopback only`);

      const emitter = services.emitter!;
      assert.ok(emitter.volumes?.includes("/var/run/docker.sock:/var/run/docker.sock:ro"), "Docker socket mounted read-only");
      assert.deepEqual(emitter.group_add, [DOCKER_GID]);
      const berth = berthServices(services);
      assert.deepEqual(berth.map((b) => `${b.name}=${b.program}`).sort(), ["emitter=emitter", "handler-2=handler", "handler=handler"]);
      assert.deepEqual(
        Object.entries(services)
          .filter(([, svc]) => svc.build !== undefined)
          .map(([name]) => name),
        ["emitter"],
        "the image is built once; the handlers use it by name",
      );

      for (const [name, svc] of Object.entries(services)) {
        for (const port of (svc.ports ?? []).map(portText))
          assert.ok(port.startsWith("127.0.0.1:"), `${name} publishes ${port} on loopback only`);
        if (hostNetwork(svc)) assert.deepEqual(svc.ports ?? [], [], `${name} is in the host's network: nothing to publish`);
        if (svc.profiles === undefined) assert.ok(svc.healthcheck?.test?.length, `${name} has a healthcheck`);
        for (const [dependency, { condition }] of Object.entries(svc.depends_on ?? {})) {
          // A handler waits for the emitter only to have its image built: started is enough.
          const wanted = dependency === "emitter" ? "service_started" : "service_healthy";
          assert.equal(condition, wanted, `${name} waits for ${dependency}`);
        }
      }
      // berth's processes start once every NATS server is healthy: a stream's replicas need their servers.
      assert.deepEqual(Object.keys(emitter.depends_on ?? {}).sort(), expected);
      for (const { name, svc, program } of berth) {
        if (program === "handler")
          assert.deepEqual(Object.keys(svc.depends_on ?? {}).sort(), ["consul", "emitter", ...expected].sort(), name);
        // The entry script sizes the heap from it (docs/operating.md#memory).
        assert.ok([134217728, "128m", "134217728"].includes(svc.mem_limit ?? ""), `${name}: mem_limit 128m, got ${String(svc.mem_limit)}`);
      }
      // berth's CLI, run one-off (docker-compose run --rm berth status): out of `up`, and linked to nothing, which
      // Docker refuses in the host's network.
      const cli = services.berth!;
      assert.deepEqual(cli.profiles, ["cli"]);
      assert.equal(cli.image, "berth:dev");
      assert.ok(hostNetwork(cli), "in the host's network, where node1's agent answers on 127.0.0.1");
      assert.equal(cli.depends_on, undefined, "no dependency: `run` would link to it");
    });
  }
});
