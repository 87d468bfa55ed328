// How an Asterisk queue member becomes a Callboard agent id. The rule (ingest/README.md):
// take the member interface (`Interface`, Asterisk 11 `Location`/`Member`), drop the channel
// technology up to the first "/", then cut at the first "@" (Local channel context) or "/"
// (Local options such as `/n`, or a dial string). What is left is the extension:
//   Local/1001@agents → 1001, Local/1001@from-queue/n → 1001, PJSIP/1001 → 1001,
//   SIP/1001 → 1001, Agent/1001 → 1001, IAX2/trunk/1001 → trunk (a dial string, kept as is).
// An interface without a "/" is used unchanged. The id is stable for as long as the member
// keeps its interface, whatever MemberName says; the name is carried separately.
export function agentIdFromInterface(iface: string): string {
  const slash = iface.indexOf('/');
  if (slash < 0) return iface;
  let rest = iface.slice(slash + 1);
  const at = rest.indexOf('@');
  if (at >= 0) rest = rest.slice(0, at);
  const s2 = rest.indexOf('/');
  if (s2 >= 0) rest = rest.slice(0, s2);
  return rest.length > 0 ? rest : iface;
}
