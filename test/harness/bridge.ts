// A linux bridge with its own /24 for one private dockerd (`dockerd --bridge <name>`).
//
// Subnets come from 10.213.<k>.0/24 (k = 1..254), skipping any /24 that overlaps a route or
// address already on this machine (eth0 is 192.0.2.0/24). The bridge is named `bth<k>`: creating
// the link is the atomic claim, so concurrent test processes never get the same subnet. A leaked
// `bth<k>` simply keeps its slot busy; `ip link | grep bth` shows leaks.
import { runSync } from "./exec.ts";

export type Bridge = { name: string; cidr: string; gateway: string; remove(): void };

const PREFIX = "10.213";

export function createBridge(): Bridge {
  const busy = usedPrefixes();
  const start = 1 + Math.floor(Math.random() * 254);
  for (let i = 0; i < 254; i++) {
    const k = 1 + ((start - 1 + i) % 254);
    const cidr = `${PREFIX}.${k}.0/24`;
    if (busy.some((p) => overlaps(p, cidr))) continue;
    const name = `bth${k}`;
    if (!runSync("ip", ["link", "add", name, "type", "bridge"]).ok) continue; // taken: try the next k
    const gateway = `${PREFIX}.${k}.1`;
    const remove = () => removeBridge(name);
    const addr = runSync("ip", ["addr", "add", `${gateway}/24`, "dev", name]);
    const up = addr.ok ? runSync("ip", ["link", "set", name, "up"]) : addr;
    if (!up.ok) {
      remove();
      throw new Error(`cannot configure bridge ${name}: ${up.stderr}`);
    }
    return { name, cidr, gateway, remove };
  }
  throw new Error(`no free /24 left in ${PREFIX}.0.0/16 for a test bridge`);
}

export function removeBridge(name: string): void {
  runSync("ip", ["link", "del", name]);
}

export function bridgeExists(name: string): boolean {
  return runSync("ip", ["link", "show", name]).ok;
}

function usedPrefixes(): string[] {
  const text = [runSync("ip", ["-4", "route", "show", "table", "all"]).stdout, runSync("ip", ["-4", "-o", "addr", "show"]).stdout].join(
    "\n",
  );
  return [...text.matchAll(/\b(\d+\.\d+\.\d+\.\d+)(\/\d+)?\b/g)].map((m) => `${m[1]}${m[2] ?? "/32"}`);
}

function overlaps(a: string, b: string): boolean {
  const [ia, la] = parse(a);
  const [ib, lb] = parse(b);
  const bits = Math.min(la, lb);
  if (bits === 0) return false; // the default route overlaps everything; ignore it
  const mask = bits === 32 ? 0xffffffff : ~(0xffffffff >>> bits) >>> 0;
  return (ia & mask) >>> 0 === (ib & mask) >>> 0;
}

function parse(cidr: string): [number, number] {
  const [ip = "0.0.0.0", len = "32"] = cidr.split("/");
  const n = ip.split(".").reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
  return [n, Number(len)];
}
