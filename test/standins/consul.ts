// `consul` in the compose test's stand-in for the hashicorp/consul image (test/standins/index.ts):
// the project's Consul agent double (test/consul-double/) behind the two commands compose.yaml
// gives the image. No Consul image can be pulled on the test machines.
//   consul agent -node=node1 … [-client=127.0.0.1]   the double, as node1's agent, on 127.0.0.1:8500, in the
//                                                     host's network namespace (its checks run from there)
//   consul operator raft list-peers                    the healthcheck: exit 0 once the agent answers
// Every other flag of `agent` (-server, -bootstrap-expect, -ui, -data-dir …) is accepted and ignored.
import { startConsulDouble } from "../consul-double/index.ts";

const HTTP_PORT = 8500;
const [command, ...args] = process.argv.slice(2);
/** A flag's value, in either of Consul's forms: `-node=node1` or `-node node1`. */
const flag = (name: string) => {
  const at = args.findIndex((a) => a === `-${name}` || a.startsWith(`-${name}=`));
  return at < 0 ? undefined : args[at]!.includes("=") ? args[at]!.slice(name.length + 2) : args[at + 1];
};

if (command === "agent") {
  const agent = await startConsulDouble({ node: flag("node") ?? "node1", port: HTTP_PORT, network: "host" });
  process.stdout.write(`consul stand-in: agent double of node ${agent.node} at ${agent.url}\n`);
  const stop = () => void agent.close().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
} else if (command === "operator" && args.join(" ") === "raft list-peers") {
  const answer = await fetch(`http://127.0.0.1:${HTTP_PORT}/v1/agent/self`).catch(() => undefined);
  process.stdout.write(answer?.ok ? "Node   ID   Address   State   Voter\nnode1  -    127.0.0.1 leader  true\n" : "");
  process.exit(answer?.ok ? 0 : 1);
} else {
  process.stderr.write(
    `consul stand-in: only "agent" and "operator raft list-peers" are stood in for, not ${JSON.stringify(process.argv.slice(2))}\n`,
  );
  process.exit(1);
}
