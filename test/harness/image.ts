// The test image: busybox-static + a /serve script, made with `docker import` (no registry here).
//
// Default CMD ["/serve"]: writes a page naming the container — $PAGE if set, else the hostname,
// which Docker sets to the 12-character container ID unless `--hostname` is given — to /tmp/www
// and runs `httpd -f -p ${PORT:-8080} -h /tmp/www` in the foreground. The script traps TERM/INT
// and stops httpd, so `docker stop` takes milliseconds (a bare PID 1 ignores SIGTERM and `docker
// stop` would wait its 10 s grace period); the container then exits with 143.
//
//   docker(engine, "run", "-d", "--pull=never", "--name", "web", "-p", "8084:8080", TEST_IMAGE)
//   docker(engine, "run", "-d", "--pull=never", "-e", "PAGE=hello", "-e", "PORT=9000", TEST_IMAGE)
//   docker(engine, "run", "-d", "--pull=never", "--init", TEST_IMAGE, "sleep", "3600")  // other command
//   docker(engine, "run", "--pull=never", TEST_IMAGE, "sh", "-c", "exit 1")            // rejects: exit 1
//   health check: --health-cmd "wget -q -O /dev/null http://127.0.0.1:8080/" --health-interval 1s
// Other commands run as PID 1 and ignore SIGTERM: use --init (docker-init is installed), `docker
// stop -t 0`, or `docker rm -f`. ENV PATH=/bin is set (Docker would otherwise add its default
// PATH, which also works); applets: see APPLETS.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findBinary } from "./bin.ts";
import type { DockerEngine } from "./docker-engine.ts";
import { docker } from "./docker-cli.ts";
import { run } from "./exec.ts";

export const TEST_IMAGE = "berth-test/busybox:1";

export const APPLETS = [
  "sh",
  "ash",
  "httpd",
  "sleep",
  "hostname",
  "echo",
  "cat",
  "true",
  "false",
  "nc",
  "wget",
  "ls",
  "mkdir",
  "kill",
  "env",
  "printf",
  "test",
  "[",
  "id",
  "ps",
  "rm",
  "touch",
  "date",
  "grep",
  "ip",
] as const;

const SERVE = `#!/bin/sh
# berth test image: serve a page naming this container
dir=/tmp/www
mkdir -p "$dir"
echo "\${PAGE:-$(hostname)}" > "$dir/index.html"
httpd -f -p "\${PORT:-8080}" -h "$dir" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid; exit 143' TERM INT
wait $pid
`;

const built = new Map<string, Promise<string>>();

/** Makes TEST_IMAGE on the engine once (idempotent, also across processes); resolves TEST_IMAGE. */
export function ensureTestImage(engine: Pick<DockerEngine, "host">): Promise<string> {
  let pending = built.get(engine.host);
  if (pending === undefined) {
    pending = buildOnce(engine);
    built.set(engine.host, pending);
    pending.catch(() => built.delete(engine.host));
  }
  return pending;
}

async function buildOnce(engine: Pick<DockerEngine, "host">): Promise<string> {
  const exists = await docker(engine, "image", "inspect", "--format", "{{.Id}}", TEST_IMAGE).then(
    () => true,
    () => false,
  );
  if (exists) return TEST_IMAGE;
  const busybox = findBinary("busybox", ["/bin/busybox", "/usr/bin/busybox"]);
  if (busybox === undefined) throw new Error("busybox (busybox-static) not found");
  const dir = mkdtempSync("/tmp/berth-image-");
  try {
    const root = join(dir, "rootfs");
    mkdirSync(join(root, "bin"), { recursive: true });
    mkdirSync(join(root, "tmp"), { mode: 0o1777 });
    chmodSync(join(root, "tmp"), 0o1777);
    copyFileSync(busybox, join(root, "bin", "busybox"));
    chmodSync(join(root, "bin", "busybox"), 0o755);
    for (const applet of APPLETS) symlinkSync("busybox", join(root, "bin", applet));
    writeFileSync(join(root, "serve"), SERVE, { mode: 0o755 });
    const tarball = join(dir, "rootfs.tar");
    await run("tar", ["--numeric-owner", "--owner=0", "--group=0", "-C", root, "-cf", tarball, "."]);
    await docker(engine, "import", "--change", 'CMD ["/serve"]', "--change", "ENV PATH=/bin", tarball, TEST_IMAGE);
    return TEST_IMAGE;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
