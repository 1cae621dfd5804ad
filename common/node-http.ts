// Node's HTTP modules for berth's own processes, loaded with require(). An ES import of a builtin
// reads every export once, and reading `http.WebSocket` (a lazy export) loads the undici that Node
// bundles: ~14 MB of RSS in each process for a WebSocket berth never opens. require() leaves the
// lazy exports alone. Tests and the bench import node:http as usual.
import { createRequire } from "node:module";
import type * as Http from "node:http";
import type * as Https from "node:https";

const require = createRequire(import.meta.url);

export const http = require("node:http") as typeof Http;
export const https = require("node:https") as typeof Https;
export type { Agent, IncomingMessage, RequestOptions, ServerResponse } from "node:http";
