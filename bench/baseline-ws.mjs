// Node 20 + the `ws` package: every text message is sent to every connection, the way
// many chat servers are built. A baseline for Parlor's benchmarks.
//
//   node bench/baseline-ws.mjs 127.0.0.1:9002

import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The ws package is installed under bench/ (`npm ci --prefix bench`), beside bun.
const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), 'package.json'));
const { WebSocketServer } = require('ws');

const [host, port] = (process.argv[2] ?? '127.0.0.1:9002').split(':');
const http = createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404);
  res.end(req.url === '/healthz' ? 'ok' : '');
});
const wss = new WebSocketServer({ server: http });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString();
    for (const client of wss.clients) {
      if (client.readyState === 1) client.send(text);
    }
  });
});
http.listen(Number(port), host, () => console.log(`baseline-ws listening on http://${host}:${port}`));
