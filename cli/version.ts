// berth's version: package.json's, found above this file — bin/ in a clone, dist/bin/ in the image.
import { readFileSync } from "node:fs";

export function berthVersion(from: string = import.meta.url): string {
  for (let dir = new URL("./", from); ; dir = new URL("../", dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "berth" && pkg.version !== undefined) return pkg.version;
    } catch {
      // no package.json here: look one directory up
    }
    if (dir.pathname === "/") return "unknown";
  }
}
