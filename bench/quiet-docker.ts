// Item 5's calls to Docker's API, made from this process over the private engine's socket: what a
// user's `docker create|start|kill|rm` would ask.
import { request } from "node:http";
import type { PrivateDockerEngine } from "../test/harness/dockerd.ts";
import { RUN_LABEL_KEY, RUN_ID } from "../test/harness/docker-cli.ts";
import { TEST_IMAGE } from "../test/harness/image.ts";

/** One call; resolves with the parsed answer once Docker has returned it. */
export function dockerApi(engine: PrivateDockerEngine, method: string, path: string, body?: object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: engine.socketPath, method, path, headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => {
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`docker ${method} ${path}: ${res.statusCode}: ${text}`));
        else resolve(text === "" ? undefined : JSON.parse(text));
      });
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** A one-port container (`-e SERVICE_NAME=quiet -p 8080`), created and not started; its id. */
export async function createQuietContainer(engine: PrivateDockerEngine, name: string): Promise<string> {
  const created = (await dockerApi(engine, "POST", `/containers/create?name=${name}`, {
    Image: TEST_IMAGE,
    Env: ["SERVICE_NAME=quiet"],
    ExposedPorts: { "8080/tcp": {} },
    Labels: { [RUN_LABEL_KEY]: RUN_ID },
    HostConfig: { PortBindings: { "8080/tcp": [{ HostPort: "" }] } },
  })) as { Id: string };
  return created.Id;
}
