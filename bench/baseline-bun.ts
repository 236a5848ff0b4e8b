// Bun's built-in WebSocket server (uWebSockets inside): every text message is
// published to every connection through one pub/sub topic, the sender included, like
// bench/baseline-ws.mjs and baseline-axum. A baseline for Parlor's benchmarks.
//
//   bench/node_modules/@oven/bun-linux-x64/bin/bun bench/baseline-bun.ts 127.0.0.1:9003
//
// The bun binary comes from npm: `npm ci` in bench/ (pinned in bench/package-lock.json).
// Options as shipped (no compression, 16 MB backpressure limit, pings after 120 s idle).

const [host, port] = (process.argv[2] ?? '127.0.0.1:9003').split(':');
const TOPIC = 'all';

const server = Bun.serve({
  hostname: host,
  port: Number(port),
  fetch(req, server) {
    const url = new URL(req.url);
    if (url.pathname === '/healthz') return new Response('ok');
    if (server.upgrade(req)) return undefined;
    return new Response('', { status: 404 });
  },
  websocket: {
    open(ws) {
      ws.subscribe(TOPIC);
    },
    message(_ws, message) {
      if (typeof message !== 'string') return;
      server.publish(TOPIC, message);
    },
  },
});
console.log(`baseline-bun listening on http://${server.hostname}:${server.port}`);
