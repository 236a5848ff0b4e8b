// Runs the `WorkspaceWebSocket` class of seed 002, unchanged, in Node against Parlor:
// connect, send, receive, set presence, type, and reconnect after a server restart.
// The `ws` package provides `WebSocket`. Driven by server/tests/workspace_node.rs,
// which restarts the server when this script prints RESTART.
//
//   node end2end/dialects/workspace-class.mjs ws://127.0.0.1:PORT/ws/workspace

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import WebSocket from 'ws';

const url = process.argv[2];
if (!url) {
  console.error('usage: workspace-class.mjs ws://HOST:PORT/ws/workspace');
  process.exit(2);
}

// The class exactly as the seed shows it (the usage lines after it are left out).
const here = dirname(fileURLToPath(import.meta.url));
const seed = readFileSync(join(here, '../../docs/seeds/002-workspace-websocket-protocol.md'), 'utf8');
const start = seed.indexOf('class WorkspaceWebSocket');
const end = seed.indexOf('// Usage', start);
if (start < 0 || end < 0) throw new Error('the class is not in the seed');
const source = seed.slice(start, end);
const WorkspaceWebSocket = new Function('WebSocket', `${source}\nreturn WorkspaceWebSocket;`)(WebSocket);

// Keep the class's own console output quiet but visible on failure.
const log = [];
console.log = (...a) => log.push(a.join(' '));
console.warn = console.log;
console.error = console.log;

const say = (line) => process.stdout.write(`${line}\n`);

/** A client whose received frames are recorded (the instance is wrapped, not the class). */
function client(name) {
  const c = new WorkspaceWebSocket(url, name);
  c.frames = [];
  const handle = c.handleMessage.bind(c);
  c.handleMessage = (m) => {
    c.frames.push(m);
    handle(m);
  };
  return c;
}

async function until(what, check, ms = 15000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const found = check();
    if (found) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const count = (c, pred) => c.frames.filter(pred).length;

async function main() {
  const ann = client('ann');
  const ben = client('ben');
  let received = [];
  ben.onMessageReceived = (m) => received.push(m);
  let presence = [];
  ben.onPresenceUpdate = (p) => presence.push(p);
  let typing = [];
  ben.onTypingUpdate = (t) => typing.push(t);

  ann.connect();
  ben.connect();
  await until('both connected', () => count(ann, (m) => m.type === 'connected') && count(ben, (m) => m.type === 'connected'));

  ann.sendMessage('hello from the seed class');
  const got = await until('ben receives the message', () => received.find((m) => m.text === 'hello from the seed class'));
  if (got.username !== 'ann' || !got.id || !got.createdAt) throw new Error(`bad message:new ${JSON.stringify(got)}`);
  await until('ann receives her own message', () => count(ann, (m) => m.type === 'message:new'));

  ann.setPresence('busy');
  await until('ben sees ann busy', () => presence.find((p) => p.username === 'ann' && p.status === 'busy'));

  ann.setTyping(true);
  await until('ben sees ann typing', () => typing.find((t) => t.username === 'ann' && t.isTyping === true));

  say('RESTART');
  await until('ann reconnects after the restart', () => count(ann, (m) => m.type === 'connected') >= 2, 30000);
  await until('ben reconnects after the restart', () => count(ben, (m) => m.type === 'connected') >= 2, 30000);

  received = [];
  ann.sendMessage('after the restart');
  await until('the message after the restart', () => received.find((m) => m.text === 'after the restart'));
  say('PASS');
  process.exit(0);
}

const timer = setTimeout(() => {
  say('FAIL: overall timeout');
  say(log.join('\n'));
  process.exit(1);
}, 90000);
timer.unref();

main().catch((e) => {
  say(`FAIL: ${e.message}`);
  say(log.join('\n'));
  process.exit(1);
});
