// The integration-test harness, in one import for convenience (each file can be imported alone):
// the building blocks. Tests that run berth start it through test/pipeline (startPipeline), which
// composes these; a test uses them directly where it is about one of them, as below.
//
//   import { after, test } from "node:test";
//   import { cleanupAll, docker, ensureTestImage, requireOrSkip, canStartDockerd, startDockerd,
//            startNatsServer, TEST_IMAGE, waitFor, httpGet } from "./harness/index.ts";
//   after(cleanupAll);                       // stops whatever the tests left running
//   test("e2e - …", async (t) => {
//     if (!requireOrSkip(t, "root and dockerd", canStartDockerd())) return;   // fails under CI=true
//     const nats = await startNatsServer();
//     const n3 = await startDockerd({ name: "n3", ip: "127.0.0.3" });
//     await ensureTestImage(n3);
//     const id = await docker(n3, "run", "-d", "--pull=never", "-p", "8084:8080", TEST_IMAGE);
//     await waitFor(() => httpGet("http://127.0.0.3:8084/").then((r) => r.status === 200), { what: "web page" });
//     …
//   });
//
// Files: wait.ts (waitFor) · ports.ts (freePort, canConnect) · http.ts (httpGet) · prereq.ts
// (requireOrSkip) · cleanup.ts (registerCleanup, cleanupAll) · nats.ts (startNatsServer) ·
// dockerd.ts (startDockerd, sharedEngine, canStartDockerd) · docker-cli.ts (docker, RUN_LABEL) ·
// image.ts (TEST_IMAGE, ensureTestImage). Internals: bin, exec, proc, proc-scan, mounts, bridge,
// containerd, dockerd-teardown, shared-engine, stale, nats-probe, emergency-child.
export { waitFor } from "./wait.ts";
export type { WaitOptions } from "./wait.ts";
export { canConnect, freePort } from "./ports.ts";
export { httpGet } from "./http.ts";
export type { HttpResult } from "./http.ts";
export { isCI, isRoot, requireOrSkip } from "./prereq.ts";
export { cleanupAll, pendingCleanups, registerCleanup } from "./cleanup.ts";
export { canStartNatsServer, startNatsServer } from "./nats.ts";
export type { NatsServer } from "./nats.ts";
export { canStartDockerd, missingForDockerd, sharedEngine, startDockerd } from "./dockerd.ts";
export type { DockerEngine, PrivateDockerEngine } from "./dockerd.ts";
export { RUN_ID, RUN_LABEL, RUN_LABEL_KEY, docker, removeContainers } from "./docker-cli.ts";
export { APPLETS, TEST_IMAGE, ensureTestImage } from "./image.ts";
