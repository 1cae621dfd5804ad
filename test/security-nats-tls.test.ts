// NATS over TLS with examples/nats-server.conf on a real nats-server, plus a tls block that verifies
// client certificates (a test PKI made with openssl): with NATS_CA (+ NATS_CERT/NATS_KEY) the handler
// connects and works; without NATS_CA, or with the wrong CA, the process stops at once saying so.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { publishDurable } from "../common/nats/index.ts";
import { subjectFor } from "../schemas/index.ts";
import { bytesOf, event } from "./builders.ts";
import { cleanupAll } from "./harness/cleanup.ts";
import { makeTestPki, opensslBinary, type TestPki } from "./harness/tls.ts";
import { startPipeline, type Pipeline } from "./pipeline/index.ts";
import { PREFIX, as, exampleConfig, exitOf } from "./security-nats-fixture.ts";

describe("security: NATS over TLS (the example plus a tls block that verifies client certificates)", () => {
  let p: Pipeline;
  let pki: TestPki;

  before(async () => {
    const openssl = opensslBinary() !== undefined;
    if (openssl) pki = await makeTestPki();
    const tls = openssl
      ? `tls {\n  cert_file: "${pki.serverCertFile}"\n  key_file: "${pki.serverKeyFile}"\n  ca_file: "${pki.caFile}"\n  verify: true\n}\n`
      : "";
    p = await startPipeline({
      prefix: PREFIX,
      nats: { config: exampleConfig(tls) },
      nodes: [{ name: "node1" }],
      handlers: 0,
      requires: { openssl },
    });
  });
  after(cleanupAll);

  const start = (tls: Record<string, string>) => p.spawn("handler", { ...as("handler"), BERTH_CONSUL_AGENTS: p.agentsEnv(), ...tls });

  test("security-nats - TLS: with NATS_CA (and a client certificate) the handler connects and works", async (t) => {
    if (!p.ready(t)) return;
    const handler = await start({ NATS_CA: pki.caFile, NATS_CERT: pki.clientCertFile, NATS_KEY: pki.clientKeyFile });
    await handler.waitForLog((l) => l.msg === "started", "handler started over TLS");
    const tlsClient = { NATS_CA: pki.caFile, NATS_CERT: pki.clientCertFile, NATS_KEY: pki.clientKeyFile };
    const b = await p.connect("berth-emitter-node1", { ...as("node1"), ...tlsClient });
    const e = event({ node: "node1", container: { id: randomBytes(32).toString("hex") } });
    await publishDurable(b, subjectFor(PREFIX, e), bytesOf(e), e.id);
    const [service] = await p.applied(e); // applied over TLS, as the mapping gives it
    assert.equal(service?.Meta["berth_container"], e.subject);
    await handler.stop();
  });

  test("security-nats - TLS: without NATS_CA, or with the wrong CA, the process stops at once saying so (no silent retrying)", async (t) => {
    if (!p.ready(t)) return;
    const client = { NATS_CERT: pki.clientCertFile, NATS_KEY: pki.clientKeyFile };
    for (const [tls, hint] of [
      [client, /set NATS_CA to the CA certificate that signed it/],
      [{ ...client, NATS_CA: pki.otherCaFile }, /NATS_CA \(.*other-ca\.pem\) does not hold the CA that signed it/],
    ] as const) {
      const handler = await start(tls);
      const exit = await exitOf(handler);
      const stderr = handler.stderr.join("\n");
      assert.equal(exit.code, 2, stderr);
      assert.match(stderr, /NATS server's TLS certificate was not accepted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
      assert.match(stderr, hint);
    }
  });
});
