// Which agent a queue_log member field names (docs/import.md "Agents"). queue_log names a member
// by interface on ADDMEMBER/REMOVEMEMBER and by member name elsewhere; the agent id is the
// interface's extension (ami/agent-id.ts), as for the live adapter. A name is mapped to a known
// id when exactly one known id appears in it as a word ("Agent 1001" ↔ Local/1001@agents);
// otherwise the name itself is the id. Shared by the import and the reconciliation calculator,
// so both sides name agents alike.
import { agentIdFromInterface } from '../ami/agent-id.ts';

export class AgentNames {
  private readonly byInterface = new Set<string>();
  private readonly byName = new Map<string, string>();

  /** The id of a member field: an interface (contains "/") or a member name. */
  idOf(field: string): string {
    if (field.includes('/')) {
      const id = agentIdFromInterface(field);
      this.byInterface.add(id);
      return id;
    }
    let id = this.byName.get(field);
    if (id === undefined) {
      const words = new Set(field.split(/[^A-Za-z0-9_.-]+/));
      const named = new Set(this.byName.values());
      const ids = [...this.byInterface].filter((i) => words.has(i) && !named.has(i));
      id = ids.length === 1 ? ids[0]! : field;
      this.byName.set(field, id);
    }
    return id;
  }
}
