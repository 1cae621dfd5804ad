// A node's agent with each call a span of the event's trace (client kind, its duration the call's):
// used only when the trace records (handler/apply-event.ts).
import type { Attributes, Span } from "../common/tracing/index.ts";
import type { AgentClient } from "../consul/client.ts";

export function tracedAgent(agent: AgentClient, trace: Span): AgentClient {
  const spanned =
    <A extends unknown[], R>(name: string, call: (...a: A) => Promise<R>, attributes: (...a: A) => Attributes) =>
    async (...a: A): Promise<R> => {
      const span = trace.child(`consul ${name}`, { kind: "client", attributes: attributes(...a) });
      try {
        return await call(...a);
      } catch (err) {
        span.fail(err);
        throw err;
      } finally {
        span.end();
      }
    };
  return {
    register: spanned("register", agent.register.bind(agent), (s) => ({ "consul.service.id": s.ID })),
    deregister: spanned("deregister", agent.deregister.bind(agent), (id) => ({ "consul.service.id": id })),
    services: spanned("services", agent.services.bind(agent), (filter) => ({ "consul.filter": filter })),
    updateCheck: spanned("check update", agent.updateCheck.bind(agent), (id, status) => ({
      "consul.check.id": id,
      "consul.check.status": status,
    })),
    close: () => agent.close(),
  };
}
