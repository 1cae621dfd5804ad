// Mount points below a directory (dockerd leaves vfs bind mounts and netns nsfs mounts behind if
// it dies or is killed), and unmounting them.
import { readFileSync } from "node:fs";
import { runSync } from "./exec.ts";

/** Mount points at or below `dir`, deepest first, from /proc/self/mountinfo. */
export function mountsUnder(dir: string): string[] {
  const root = dir.replace(/\/+$/, "");
  const points = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => unescapeMount(line.split(" ")[4] ?? ""))
    .filter((p) => p === root || p.startsWith(`${root}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Unmounts everything below `dir` (plain umount, lazy umount as fallback); returns what is left. */
export function unmountUnder(dir: string): string[] {
  for (let round = 0; round < 3 && mountsUnder(dir).length > 0; round++) {
    for (const point of mountsUnder(dir)) {
      if (!runSync("umount", [point]).ok) runSync("umount", ["-l", point]);
    }
  }
  return mountsUnder(dir);
}

function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}
