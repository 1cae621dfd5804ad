// Local stand-ins for the public images compose.yaml and the Dockerfile name, which no registry
// serves on the test machines (test/compose-stack.test.ts). Built into an engine whose data-root is
// kept between runs (STANDIN_CACHE/engine), each labelled with the hash of its recipe: built once,
// and again only when its recipe changes.
//   node:26-trixie-slim    Debian trixie (debootstrap --variant=minbase, with libatomic1, which Node 26
//                          needs; the root filesystem cached as a tarball), the project's Node (this
//                          process's binary), npm, user `node` (uid 1000). Its npm is offline, with a
//                          cache holding package-lock.json's packages: the Dockerfile's `npm ci` needs
//                          no network (nor the extra CA these machines' proxy needs).
//   nats:2.10-alpine       Debian's nats-server (2.9) with busybox (sh, and wget for the healthcheck) and
//                          the image's entry point (a first argument starting with `-` runs nats-server)
//   hashicorp/consul:1.20  the node stand-in with the agent double behind `consul` (test/standins/consul.ts)
//   nginx                  the test image's busybox httpd, on port 80
import { createHash } from "node:crypto";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { DockerEngine } from "../harness/docker-engine.ts";
import { docker, dockerCli } from "../harness/docker-cli.ts";
import { ensureTestImage } from "../harness/image.ts";
import { run } from "../harness/exec.ts";
import { findBinary } from "../harness/bin.ts";

export const STANDIN_CACHE = process.env.BERTH_TEST_CACHE ?? "/var/cache/berth-test";
const ROOT = new URL("../..", import.meta.url).pathname;
const LABEL = "berth-standin";
const DEBIAN = ["debootstrap", "--variant=minbase", "--include=libatomic1,ca-certificates", "trixie"];

/** A docker command that may take minutes (an import or a build on vfs, on a busy machine). */
const dockerSlow = (engine: DockerEngine, ...args: string[]) =>
  run(dockerCli(), ["-H", engine.host, ...args], { env: { ...process.env, DOCKER_HOST: "" }, timeoutMs: 900_000 });

const hash = (...parts: (string | Buffer)[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex").slice(0, 16);
};
const filesOf = (dir: string): Buffer[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort()
    .flatMap((f) => [Buffer.from(f.slice(dir.length)), readFileSync(f)]);

/** Builds `name` from `recipe` unless the engine holds it with the same recipe hash. Returns whether it built. */
async function ensure(engine: DockerEngine, name: string, key: string, build: (ctx: string) => Promise<void>, say: (text: string) => void) {
  const has = await docker(engine, "image", "inspect", "--format", `{{index .Config.Labels "${LABEL}"}}`, name).catch(() => "");
  if (has === key) return;
  say(`building the stand-in ${name} (${key})`);
  const ctx = mkdtempSync("/tmp/berth-standin-");
  try {
    await build(ctx);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

/** A Debian root filesystem as a tarball, made once by debootstrap (a few minutes) and kept in STANDIN_CACHE. */
async function debianTarball(say: (text: string) => void): Promise<string> {
  const tarball = join(STANDIN_CACHE, `debian-${hash(...DEBIAN)}.tar`);
  if (existsSync(tarball)) return tarball;
  const debootstrap = findBinary("debootstrap", ["/usr/sbin/debootstrap"]);
  if (!debootstrap) throw new Error("debootstrap not found: apt-get install debootstrap (scripts/test.sh does)");
  say(`debootstrap of Debian trixie into ${STANDIN_CACHE} (a few minutes, once)`);
  const dir = mkdtempSync("/tmp/berth-debootstrap-");
  try {
    await run(debootstrap, [...DEBIAN.slice(1), join(dir, "root")], { timeoutMs: 1_200_000 });
    mkdirSync(STANDIN_CACHE, { recursive: true });
    await run("tar", ["--numeric-owner", "-C", join(dir, "root"), "-cf", `${tarball}.part`, "."], { timeoutMs: 300_000 });
    renameSync(`${tarball}.part`, tarball);
    return tarball;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function nodeImage(engine: DockerEngine, say: (text: string) => void): Promise<string> {
  const lock = readFileSync(join(ROOT, "package-lock.json"));
  const npmVersion = await run("npm", ["--version"], { env: process.env });
  const key = hash(...DEBIAN, process.version, npmVersion, lock, "node-1");
  await ensure(
    engine,
    "node:26-trixie-slim",
    key,
    async (ctx) => {
      const base = `berth-standin/debian:${hash(...DEBIAN)}`;
      await dockerSlow(engine, "import", await debianTarball(say), base);
      const local = join(ctx, "rootfs/usr/local");
      mkdirSync(join(local, "bin"), { recursive: true });
      copyFileSync(process.execPath, join(local, "bin/node"));
      // npm's published package bundles its dependencies: unpacked, it runs as it is.
      await run("npm", ["pack", `npm@${npmVersion}`, "--pack-destination", ctx, "--silent"], { env: process.env });
      mkdirSync(join(local, "lib/node_modules/npm"), { recursive: true });
      await run("tar", ["-xzf", join(ctx, `npm-${npmVersion}.tgz`), "--strip-components=1", "-C", join(local, "lib/node_modules/npm")]);
      // The cache npm ci reads offline in the Dockerfile's build: exactly the lockfile's packages.
      const project = join(ctx, "project");
      mkdirSync(project);
      for (const f of ["package.json", "package-lock.json"]) copyFileSync(join(ROOT, f), join(project, f));
      await run(
        "npm",
        ["ci", "--prefix", project, "--ignore-scripts", "--no-audit", "--no-fund", "--cache", join(local, "share/npm-cache")],
        { env: { ...process.env, npm_config_cache: join(local, "share/npm-cache") }, timeoutMs: 300_000 },
      );
      rmSync(project, { recursive: true });
      writeFileSync(
        join(ctx, "Dockerfile"),
        [
          `FROM ${base}`,
          "COPY rootfs/ /",
          "RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\",
          "  && groupadd --gid 1000 node && useradd --uid 1000 --gid node --create-home node",
          "ENV npm_config_cache=/usr/local/share/npm-cache npm_config_offline=true npm_config_update_notifier=false",
          `LABEL ${LABEL}=${key}`,
          'CMD ["node"]',
        ].join("\n"),
      );
      await dockerSlow(engine, "build", "-q", "-t", "node:26-trixie-slim", ctx);
      await docker(engine, "image", "rm", base);
    },
    say,
  );
  return key;
}

/** The shared libraries a dynamically linked binary loads (ldd), with the loader. */
async function librariesOf(binary: string): Promise<string[]> {
  const out = await run("ldd", [binary]);
  return [...out.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!);
}

async function natsImage(engine: DockerEngine, say: (text: string) => void): Promise<void> {
  const nats = findBinary("nats-server", ["/usr/sbin/nats-server", "/usr/bin/nats-server"]);
  const busybox = findBinary("busybox", ["/bin/busybox", "/usr/bin/busybox"]);
  if (!nats || !busybox) throw new Error("nats-server and busybox (busybox-static) are needed for the nats stand-in");
  const entrypoint =
    '#!/bin/sh\n# as the nats image: a first argument starting with - runs nats-server\nif [ "${1#-}" != "$1" ]; then set -- nats-server "$@"; fi\nexec "$@"\n';
  const key = hash(readFileSync(nats), entrypoint, "nats-1");
  await ensure(
    engine,
    "nats:2.10-alpine",
    key,
    async (ctx) => {
      const root = join(ctx, "rootfs");
      mkdirSync(join(root, "bin"), { recursive: true });
      mkdirSync(join(root, "tmp"), { mode: 0o1777 });
      copyFileSync(busybox, join(root, "bin/busybox"));
      for (const applet of ["sh", "wget"]) await run("ln", ["-s", "busybox", join(root, "bin", applet)]);
      copyFileSync(nats, join(root, "bin/nats-server"));
      for (const lib of await librariesOf(nats)) {
        mkdirSync(join(root, dirname(lib)), { recursive: true });
        copyFileSync(lib, join(root, lib)); // the file a symlink names, under the symlink's name
      }
      writeFileSync(join(root, "bin/docker-entrypoint.sh"), entrypoint, { mode: 0o755 });
      const tarball = join(ctx, "rootfs.tar");
      await run("tar", ["--numeric-owner", "--owner=0", "--group=0", "-C", root, "-cf", tarball, "."]);
      const changes = ["ENV PATH=/bin", 'ENTRYPOINT ["/bin/docker-entrypoint.sh"]', 'CMD ["nats-server"]', `LABEL ${LABEL}=${key}`];
      await dockerSlow(engine, "import", ...changes.flatMap((c) => ["--change", c]), tarball, "nats:2.10-alpine");
    },
    say,
  );
}

async function consulImage(engine: DockerEngine, nodeKey: string, say: (text: string) => void): Promise<void> {
  const double = join(ROOT, "test/consul-double");
  const key = hash(nodeKey, ...filesOf(double), readFileSync(join(ROOT, "test/standins/consul.ts")), "consul-1");
  await ensure(
    engine,
    "hashicorp/consul:1.20",
    key,
    async (ctx) => {
      const app = join(ctx, "rootfs/opt/consul-standin");
      cpSync(double, join(app, "test/consul-double"), { recursive: true });
      mkdirSync(join(app, "test/standins"), { recursive: true });
      copyFileSync(join(ROOT, "test/standins/consul.ts"), join(app, "test/standins/consul.ts"));
      writeFileSync(join(app, "package.json"), `${JSON.stringify({ type: "module" })}\n`);
      const bin = join(ctx, "rootfs/usr/local/bin");
      mkdirSync(bin, { recursive: true });
      writeFileSync(join(bin, "consul"), '#!/bin/sh\nexec node /opt/consul-standin/test/standins/consul.ts "$@"\n', { mode: 0o755 });
      // As the consul image's: a first argument that is a consul command runs consul.
      writeFileSync(
        join(bin, "docker-entrypoint.sh"),
        '#!/bin/sh\ncase "$1" in agent|operator|members|version) set -- consul "$@" ;; esac\nexec "$@"\n',
        { mode: 0o755 },
      );
      writeFileSync(
        join(ctx, "Dockerfile"),
        [
          "FROM node:26-trixie-slim",
          "COPY rootfs/ /",
          `LABEL ${LABEL}=${key}`,
          'ENTRYPOINT ["docker-entrypoint.sh"]',
          'CMD ["agent", "-dev"]',
        ].join("\n"),
      );
      await dockerSlow(engine, "build", "-q", "-t", "hashicorp/consul:1.20", ctx);
    },
    say,
  );
}

async function nginxImage(engine: DockerEngine, say: (text: string) => void): Promise<void> {
  const testImage = await ensureTestImage(engine);
  const id = await docker(engine, "image", "inspect", "--format", "{{.Id}}", testImage);
  const key = hash(id, "nginx-1");
  await ensure(
    engine,
    "nginx",
    key,
    async (ctx) => {
      writeFileSync(join(ctx, "Dockerfile"), [`FROM ${testImage}`, "ENV PORT=80", `LABEL ${LABEL}=${key}`].join("\n"));
      await docker(engine, "build", "-q", "-t", "nginx", ctx);
    },
    say,
  );
}

/** Every stand-in on `engine`, built where missing or out of date. */
export async function ensureStandins(engine: DockerEngine, say: (text: string) => void): Promise<void> {
  const nodeKey = await nodeImage(engine, say);
  await consulImage(engine, nodeKey, say);
  await natsImage(engine, say);
  await nginxImage(engine, say);
  // Layers of stand-ins replaced by newer recipes, and of berth:dev builds before the last (vfs: a copy each).
  await dockerSlow(engine, "image", "prune", "-f");
}
