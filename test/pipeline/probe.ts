// Ground truth the mapping code cannot vouch for itself: a service of a container of the test image
// that serves its one port (the default command, /serve) must be answered at the service's address
// and port by that container — its page names it (PAGE, else its hostname: the short ID). A mapping
// that advertised the wrong port or address would agree with itself in the oracle, not here.
import { request } from "node:http";
import type { ContainerServices } from "../../cli/container-services.ts";
import { TEST_IMAGE } from "../harness/image.ts";
import type { Difference } from "./compare.ts";
import type { NodeTruth } from "./oracle.ts";

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

/** A difference for each service of such a container that its container does not answer at its address and port. */
export async function unanswered(truth: NodeTruth, mapped: readonly ContainerServices[]): Promise<Difference[]> {
  const diffs: Difference[] = [];
  await Promise.all(
    mapped.map(async ({ event, mapping }) => {
      const info = (await truth.source.inspect(event.data.container.id)) as Inspect | undefined;
      const serves = info && served(info);
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
