// How slowly a Node process answers after sleeping (bench/README.md, "Floors that bound"): a TCP
// round trip to a child Node process after this one slept 10 ms, 500 ms and 3 s, twice over. On
// this machine the round trip grew with the sleep (0.4 → 1.6–2.3 → 6.0–6.6 ms, 2026-12-07); a
// floor whose time includes one more such wake-up than berth's is no floor.
//
// node bench/wake-probe.ts [rounds per sleep, default 10]
import { fork } from "node:child_process";
import { createServer, connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { percentile } from "./measure.ts";

if (process.argv[2] === "--echo") {
  const socket = connect(Number(process.argv[3]), "127.0.0.1");
  socket.setNoDelay(true);
  socket.on("data", (data) => socket.write(data));
} else {
  const rounds = Number(process.argv[2] ?? 10);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const child = fork(new URL(import.meta.url).pathname, ["--echo", String((server.address() as AddressInfo).port)]);
  const socket = await new Promise<Socket>((resolve) => server.once("connection", resolve));
  socket.setNoDelay(true);
  const roundTrip = async () => {
    const sent = performance.now();
    socket.write("x");
    await new Promise((resolve) => socket.once("data", resolve));
    return performance.now() - sent;
  };
  try {
    for (let i = 0; i < 5; i++) await roundTrip();
    for (const slept of [10, 500, 3_000, 10, 500, 3_000]) {
      const times: number[] = [];
      for (let i = 0; i < rounds; i++) {
        await sleep(slept);
        times.push(await roundTrip());
      }
      const at = (p: number) => percentile(times, p).toFixed(2);
      process.stdout.write(`after ${slept} ms asleep: round trip median ${at(50)} ms, min ${at(0)}, max ${at(100)}\n`);
    }
  } finally {
    child.kill();
    socket.destroy();
    server.close();
  }
}
