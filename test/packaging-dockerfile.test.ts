// The image, without building it (no registry here, so no base image): the Dockerfile is read
// instruction by instruction and checked — a build stage, non-root runtime, production dependencies
// only, only the build and the entry script copied (test/packaging-layout.test.ts carries it out).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  BUILD_ENTRY,
  ENTRY_SCRIPT,
  PATH_COMMAND,
  PATH_WRAPPER,
  buildConfig,
  dockerfile,
  dockerignored,
  ops,
  parseCopy,
  read,
  runtimeFiles,
  runtimeUser,
  stageNamed,
  workdir,
} from "./packaging-fixture.ts";

describe("packaging", () => {
  const { stages, runtime, outDir, builtEntry, runtimeCopies } = dockerfile();

  test("packaging - the Dockerfile has a build stage and a runtime stage that runs the build as a non-root user", () => {
    assert.ok(stages.length >= 2, "multi-stage");
    const users = ops(runtime, "USER");
    assert.equal(users.length, 1, "the runtime stage sets USER once");
    const { uid, gid } = runtimeUser(runtime);
    assert.ok(uid > 0, `runtime uid ${uid} is not root`);
    assert.ok(gid > 0, `runtime gid ${gid} is not root`);
    const entrypoint = JSON.parse(ops(runtime, "ENTRYPOINT")[0]!.args) as string[];
    assert.deepEqual(entrypoint, [`${workdir(runtime)}/${ENTRY_SCRIPT}`], "one entry point, which picks the process");
    // The script runs the compiled entry with node, from where the runtime stage puts it.
    assert.ok(read(ENTRY_SCRIPT).includes(`"$(dirname "$0")/../${builtEntry}"`), `${ENTRY_SCRIPT} runs ${builtEntry}`);
    const cmd = JSON.parse(ops(runtime, "CMD")[0]!.args) as string[];
    assert.ok(["emitter", "handler"].includes(cmd[0]!), `default command ${cmd[0]} is a process`);
    const config = buildConfig();
    assert.deepEqual(config.include, [BUILD_ENTRY], "the build starts from the entry and follows its imports");
    assert.equal(config.compilerOptions.rewriteRelativeImportExtensions, true, "the output imports .js, not .ts");
  });

  test("packaging - the runtime stage installs nothing and copies only production dependencies and the build", () => {
    assert.equal(ops(runtime, "RUN").length, 0, "the runtime stage runs nothing itself");
    const fromStages = runtimeCopies().filter((c) => c.from !== undefined);
    assert.deepEqual(
      fromStages.map((c) => [c.sources, c.dest]),
      [
        [["/app/node_modules"], "./node_modules"],
        [[`/app/${outDir}`], `./${outDir}`],
      ],
    );
    const [modules, build] = fromStages.map((c) => stageNamed(stages, c.from!)!);
    // node_modules: from a stage that saw only the manifest and lockfile and installed without dev dependencies.
    const installs = ops(modules!, "RUN");
    assert.equal(installs.length, 1, "the dependency stage runs one install");
    assert.match(installs[0]!.args, /^npm ci\b/);
    assert.match(installs[0]!.args, /\s--omit=dev\b/);
    assert.deepEqual(
      ops(modules!, "COPY")
        .flatMap((c) => parseCopy(c.args).sources)
        .sort(),
      ["package-lock.json", "package.json"],
    );
    assert.equal(workdir(modules!), "/app");
    // dist/: built by `npm run build` after a full install (the compiler and the schema types are dev dependencies).
    assert.deepEqual(
      ops(build!, "RUN").map((r) => r.args.split(/\s+/).slice(0, 3).join(" ")),
      ["npm ci --ignore-scripts", "npm run build"],
    );
    assert.equal(workdir(build!), "/app");
    const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string>; scripts: Record<string, string> };
    assert.match(pkg.scripts.build!, /\btsc -p tsconfig\.build\.json\b/);
    for (const name of ["tsx", "typescript", "json-schema-to-ts"])
      assert.ok(!(name in pkg.dependencies), `${name} is not needed at run time`);
  });

  test("packaging - the build stage copies exactly the directories bin/berth-main.ts reaches and the build's configuration; the runtime stage copies package.json", () => {
    const build = stageNamed(stages, runtimeCopies().find((c) => c.from !== undefined && c.dest === `./${outDir}`)!.from!)!;
    const fromContext = ops(build, "COPY")
      .map((c) => parseCopy(c.args))
      .filter((c) => c.from === undefined)
      .flatMap((c) => c.sources);
    const reached = new Set([...runtimeFiles()].map((f) => f.split("/")[0]!));
    assert.ok(!reached.has("test") && !reached.has("bench"), `runtime code imports no test code (${[...reached].join(", ")})`);
    assert.deepEqual(
      new Set(fromContext),
      new Set([...reached, "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"]),
    );
    const runtimeFromContext = runtimeCopies()
      .filter((c) => c.from === undefined)
      .flatMap((c) => c.sources);
    assert.deepEqual(
      runtimeFromContext,
      ["package.json", ENTRY_SCRIPT, PATH_WRAPPER],
      'the runtime stage takes only package.json ("type": "module"), the entry script and its wrapper on PATH from the sources',
    );
    for (const source of [...fromContext, ...runtimeFromContext]) assert.ok(!dockerignored(source), `${source} is in the build context`);
  });

  test("packaging - berth is on the image's PATH: /usr/local/bin/berth execs the entry point with the arguments given", () => {
    const wrapper = runtimeCopies().find((c) => c.sources.includes(PATH_WRAPPER));
    assert.equal(wrapper?.dest, PATH_COMMAND, `${PATH_WRAPPER} is copied to ${PATH_COMMAND}, on the base image's PATH`);
    const entrypoint = (JSON.parse(ops(runtime, "ENTRYPOINT")[0]!.args) as string[])[0]!;
    assert.match(read(PATH_WRAPPER), new RegExp(`^exec ${entrypoint.replaceAll("/", "\\/")} "\\$@"$`, "m"));
  });

  test("packaging - .dockerignore keeps node_modules, a local build, tests and the git history out of the build context", () => {
    for (const path of [
      "node_modules",
      "dist",
      "test",
      ".git",
      "bench",
      "node_modules/tsx/package.json",
      "dist/bin/berth-main.js",
      "test/podman.test.ts",
    ]) {
      assert.ok(dockerignored(path), `${path} is excluded`);
    }
  });
});
