// Parlor's service worker. It exists for two things a web page cannot do alone:
// start the app without the network, and show a notification while no Parlor page is
// open. It keeps the app shell (the page, its script, WebAssembly, style, manifest and
// icons) in a cache named for this build, and nothing else: never an API answer, an
// upload, the socket, or anything private. The server writes the build's version into
// VERSION when it serves this file as /sw.js, so a new build replaces the old cache.
'use strict';

const VERSION = '__PARLOR_VERSION__';
const CACHE = 'parlor-shell-' + VERSION;
// What the shell is made of: the bundle's hashed files and the public ones.
const SHELL = /\.(?:wasm|js|css|png|svg|webmanifest)$/;
// Never from the cache, whatever their name: the server's answers and stored files.
const NEVER = /^\/(?:api|ws|uploads|trust)(?:\/|$)/;
const FIXED = [
  '/public/manifest.webmanifest',
  '/public/favicon.svg',
  '/public/icon-192.png',
  '/public/icon-512.png',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const page = await fetch('/', { cache: 'no-cache' });
      if (!page.ok) {
        throw new Error('the page answered ' + page.status);
      }
      const html = await page.clone().text();
      const files = new Set(FIXED);
      // Every file the page names (its script, WebAssembly and style).
      for (const m of html.matchAll(/\/[\w./-]+\.(?:wasm|js|css)\b/g)) {
        if (!NEVER.test(m[0])) {
          files.add(m[0]);
        }
      }
      await cache.addAll([...files]);
      await cache.put('/', page);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith('parlor-shell-') && key !== CACHE) {
          await caches.delete(key);
        }
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || NEVER.test(url.pathname)) {
    return;
  }
  if (request.mode === 'navigate') {
    // The network first: a fresh page names the current bundle. Without it, the kept
    // page starts the app, which shows that it is offline.
    event.respondWith(
      fetch(request).catch(async () => {
        const kept = await caches.match('/', { cacheName: CACHE });
        return kept || Response.error();
      }),
    );
    return;
  }
  if (SHELL.test(url.pathname)) {
    event.respondWith(
      caches
        .match(request, { cacheName: CACHE, ignoreSearch: true })
        .then((kept) => kept || fetch(request)),
    );
  }
});

// A push message from the server (encrypted by it, decrypted by the browser): who
// wrote, in which chat, and perhaps a short preview. One notification per chat: a
// newer one replaces the older, as the page's own notifications do (same tag).
self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = {};
  }
  const chat = typeof data.chat === 'string' ? data.chat : '';
  const from = typeof data.from === 'string' ? data.from : 'Parlor';
  const title = chat.startsWith('#') ? from + ' in ' + chat : from;
  const body = typeof data.preview === 'string' && data.preview ? data.preview : 'New message';
  event.waitUntil(
    self.registration.showNotification(title, {
      body,
      tag: chat || 'parlor',
      icon: '/public/icon-192.png',
      badge: '/public/icon-192.png',
      data: { chat },
    }),
  );
});

// Opening a notification opens its chat: in a Parlor window that is already open
// (focused, and told which chat), or in a new one.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const chat = (event.notification.data && event.notification.data.chat) || '';
  const target = chat ? '/?chat=' + encodeURIComponent(chat) : '/';
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      for (const client of windows) {
        if (new URL(client.url).origin === self.location.origin) {
          client.postMessage({ type: 'openChat', chat });
          return client.focus();
        }
      }
      return self.clients.openWindow(target);
    })(),
  );
});
