// One HTTP exchange written by hand on a TCP socket, for the malformed request lines and headers
// that fetch and node:http refuse to send (hostile-input tests).
import { connect } from 'node:net';

export function rawHttp(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(text));
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}
