// Ground truth the mapping code cannot vouch for itself (the oracle's expectation comes from that code,
// so a bug in it would agree with itself): read from the container, not from berth's mapping.
//  - Asked for: a container with one port that names its service (SERVICE_NAME) or tags it
//    (SERVICE_TAGS), in env or labels (labels win), gets that name, and those tags and BERTH_TAGS.
//  - Answered: a service of a container of the test image serving its one port (the default command,
//    /serve) is answered at the service's address and port by that container — its page names it
//    (PAGE, else its hostname: the short ID).
import { request } from "node:http";
import type { ContainerServices } from "../../cli/container-services.ts";
import type { MappingSettings } from "../../mapping/settings.ts";
import { TEST_IMAGE } from "../harness/image.ts";
import type { Difference } from "./compare.ts";
import type { DockerSource } from "../../emitter/docker.ts";
import type { ConsulDouble } from "../consul-double/index.ts";

/** What the oracle reads of one node: its Docker engine, its agent, and the handlers' mapping settings. */
export type NodeTruth = {
  node: string;
  hostIp: string;
  source: DockerSource;
  settings: MappingSettings;
  agent: () => ConsulDouble | undefined;
};

/** The parts of an inspect this probe reads (beyond emitter/docker.ts's ContainerInspect). */
type Inspect = {
  Config?: {
    Image?: string;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    Env?: string[] | null;
    Labels?: Record<string, string> | null;
    Hostname?: string;
  };
  NetworkSettings?: { Ports?: Record<string, unknown> | null };
};

/** GET / of address:port (IPv4 or IPv6), no keep-alive: the status and body, or the error's message. */
function page(address: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: address, port, path: "/", agent: false, headers: { connection: "close" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(`${res.statusCode} ${Buffer.concat(chunks).toString("utf8").trim()}`));
      res.on("error", (err) => resolve(err.message));
    });
    req.setTimeout(2000, () => req.destroy(new Error("no answer within 2 s")));
    req.on("error", (err) => resolve(err.message));
    req.end();
  });
}

/** What the container serves, when it is the test image serving one port and nothing decides its address by hand. */
function served(info: Inspect): { port: string; page: string } | undefined {
  const config = info.Config ?? {};
  if (config.Image !== TEST_IMAGE || (config.Entrypoint?.length ?? 0) > 0) return undefined;
  if (JSON.stringify(config.Cmd ?? []) !== JSON.stringify(["/serve"])) return undefined;
  const env = new Map((config.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  const keys = [...env.keys(), ...Object.keys(config.Labels ?? {})];
  if (keys.some((k) => /^SERVICE_(.+_)?ADDRESS/.test(k))) return undefined;
  const port = env.get("PORT") ?? "8080";
  const ports = Object.keys(info.NetworkSettings?.Ports ?? {});
  if (ports.length !== 1 || ports[0] !== `${port}/tcp`) return undefined;
  return { port, page: env.get("PAGE") ?? config.Hostname ?? "" };
}

/** The SERVICE_* keys of env, then labels over them. */
function serviceKeys(info: Inspect): Map<string, string> {
  const env = (info.Config?.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)] as const);
  return new Map([...env, ...Object.entries(info.Config?.Labels ?? {})].filter(([k]) => k.startsWith("SERVICE_")));
}

/** The name and tags a one-port container asks for by itself, where no other key (per port, several names, escapes) decides. */
function askedFor(info: Inspect, settings: MappingSettings): { name?: string; tags?: string[] } {
  const keys = serviceKeys(info);
  if (Object.keys(info.NetworkSettings?.Ports ?? {}).length !== 1) return {};
  if ([...keys.keys()].some((k) => /^SERVICE_.+_(NAME|TAGS)$/i.test(k) && k !== "SERVICE_NAME_SUFFIX")) return {};
  const suffixed = keys.has("SERVICE_NAME_SUFFIX") || settings.nameSuffix === "always";
  const name = keys.get("SERVICE_NAME")?.trim();
  const tags = keys.get("SERVICE_TAGS");
  const list = (text: string) =>
    text
      .split(",")
      .map((t) => t.trim())
      .filter((t) => t !== "");
  return {
    ...(name && !suffixed && !/[,\\]/.test(name) ? { name } : {}),
    ...(tags !== undefined && !tags.includes("\\") ? { tags: [...list(tags), ...settings.tags] } : {}),
  };
}

/** A difference for each service of the node's containers that does not carry what its container asked for, or is not answered there. */
export async function groundTruth(truth: NodeTruth, mapped: readonly ContainerServices[]): Promise<Difference[]> {
  const diffs: Difference[] = [];
  await Promise.all(
    mapped.map(async ({ event, mapping }) => {
      const info = (await truth.source.inspect(event.data.container.id)) as Inspect | undefined;
      if (!info) return;
      const asked = askedFor(info, truth.settings);
      for (const s of mapping.services) {
        if (asked.name !== undefined && s.Name !== asked.name)
          diffs.push({ node: truth.node, service: s.ID, field: "Name (SERVICE_NAME)", want: asked.name, got: s.Name });
        const missing = (asked.tags ?? []).filter((t) => !(s.Tags ?? []).includes(t));
        if (missing.length > 0)
          diffs.push({ node: truth.node, service: s.ID, field: "Tags (SERVICE_TAGS, BERTH_TAGS)", want: asked.tags, got: s.Tags ?? [] });
      }
      const serves = served(info);
      if (!serves) return;
      for (const s of mapping.services) {
        if (!s.Address || s.Port === undefined) continue;
        const want = `200 ${serves.page}`;
        const got = await page(s.Address, s.Port);
        if (got !== want) diffs.push({ node: truth.node, service: s.ID, field: `answer at ${s.Address}:${s.Port}`, want, got });
      }
    }),
  );
  return diffs;
}
