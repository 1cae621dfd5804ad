// Locating the binaries the harness drives (dockerd, containerd, nats-server, docker, busybox, ip).
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

const SBIN = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** PATH with the sbin directories appended (dockerd looks up docker-proxy, runc, shims on PATH). */
export function daemonPath(): string {
  const own = (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  return [...own, ...SBIN.filter((d) => !own.includes(d))].join(delimiter);
}

/** First executable among `preferred` absolute paths, then `name` on daemonPath(); undefined if none. */
export function findBinary(name: string, preferred: readonly string[] = []): string | undefined {
  const candidates = [
    ...preferred,
    ...daemonPath()
      .split(delimiter)
      .map((d) => join(d, name)),
  ];
  return candidates.find(isExecutable);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
