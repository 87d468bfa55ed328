// JSON over HTTP for the fake PBX endpoints: both Yeastar fakes answer and read bodies this way.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, body: unknown, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The request body as a JSON object; an empty or unparseable body reads as `{}`, as the PBXes treat it. */
export function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => {
      try {
        resolve(JSON.parse(s || '{}') as Record<string, unknown>);
      } catch {
        resolve({});
      }
    });
  });
}
