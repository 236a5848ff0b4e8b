// The page's side of the installable app, in plain JavaScript beside the WebAssembly
// app: registering the service worker (/sw.js), keeping the browser's install offer
// for the app's "Install" button, and subscribing this device to push notifications
// (the browser's PushManager; the app then sends the subscription to the server).
// The app calls these through `window.parlorPwa`; every function reports failure by
// throwing (or a rejected promise), never by answering as if it had worked.
'use strict';

(() => {
  let offer = null;
  const pwa = {};

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((e) => {
      console.warn('Parlor: the service worker could not be registered', e);
    });
    // A notification opened while a Parlor window exists: the worker tells the page
    // which chat; the app listens for this event.
    navigator.serviceWorker.addEventListener('message', (event) => {
      const d = event.data || {};
      if (d.type === 'openChat' && typeof d.chat === 'string') {
        window.dispatchEvent(new CustomEvent('parlor-open-chat', { detail: d.chat }));
      }
    });
  }
  window.addEventListener('beforeinstallprompt', (event) => {
    event.preventDefault();
    offer = event;
    window.dispatchEvent(new Event('parlor-install'));
  });
  window.addEventListener('appinstalled', () => {
    offer = null;
    window.dispatchEvent(new Event('parlor-install'));
  });

  const standalone = () =>
    window.matchMedia('(display-mode: standalone)').matches || navigator.standalone === true;
  const apple = () =>
    /iPhone|iPad|iPod/.test(navigator.userAgent) ||
    (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);

  // Whether the browser offers to install the app now (Chromium-based browsers).
  pwa.canInstall = () => offer !== null;
  // Shows the browser's install dialog; answers "accepted" or "dismissed".
  pwa.install = async () => {
    if (!offer) {
      throw new Error('This browser does not offer to install Parlor now.');
    }
    const shown = offer;
    offer = null;
    await shown.prompt();
    const choice = await shown.userChoice;
    window.dispatchEvent(new Event('parlor-install'));
    return choice.outcome;
  };
  // How to install where the browser has no install dialog ("" when none applies).
  pwa.installSteps = () => {
    if (standalone()) {
      return '';
    }
    if (apple()) {
      return 'On iPhone or iPad, in Safari: tap Share, then "Add to Home Screen". Notifications need the app added this way.';
    }
    return '';
  };

  // Whether this page can receive push notifications at all (a secure context with a
  // service worker and the Push API).
  pwa.pushSupported = () =>
    window.isSecureContext && 'serviceWorker' in navigator && 'PushManager' in window;

  const bytes = (b64url) => {
    const b64 = b64url.replace(/-/g, '+').replace(/_/g, '/');
    const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  };
  const same = (a, b) => {
    if (!a || a.byteLength !== b.byteLength) {
      return false;
    }
    const x = new Uint8Array(a);
    return x.every((v, i) => v === b[i]);
  };
  const registration = async () => {
    if (!pwa.pushSupported()) {
      throw new Error('This browser cannot receive notifications from Parlor here (it needs HTTPS that this device trusts).');
    }
    return navigator.serviceWorker.ready;
  };

  // Asks for permission and subscribes this device; answers [endpoint, p256dh, auth]
  // for the server. A subscription made for another server key is replaced.
  pwa.subscribe = async () => {
    const permission = await Notification.requestPermission();
    if (permission !== 'granted') {
      throw new Error('Notifications are blocked for this site in the browser settings.');
    }
    const reg = await registration();
    const answer = await fetch('/api/push/key');
    if (!answer.ok) {
      throw new Error('The server has no push key (' + answer.status + ').');
    }
    const key = bytes((await answer.json()).key);
    let sub = await reg.pushManager.getSubscription();
    if (sub && !same(sub.options.applicationServerKey, key)) {
      await sub.unsubscribe();
      sub = null;
    }
    if (!sub) {
      sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    }
    const json = sub.toJSON();
    return [json.endpoint, json.keys.p256dh, json.keys.auth];
  };
  // This device's subscription endpoint, or "" when it has none.
  pwa.subscribed = async () => {
    if (!pwa.pushSupported()) {
      return '';
    }
    const reg = await navigator.serviceWorker.getRegistration('/');
    const sub = reg && (await reg.pushManager.getSubscription());
    return sub ? sub.endpoint : '';
  };
  // Ends this device's subscription; answers its endpoint ("" when there was none).
  pwa.unsubscribe = async () => {
    const endpoint = await pwa.subscribed();
    if (endpoint) {
      const reg = await navigator.serviceWorker.getRegistration('/');
      const sub = reg && (await reg.pushManager.getSubscription());
      if (sub) {
        await sub.unsubscribe();
      }
    }
    return endpoint;
  };

  window.parlorPwa = pwa;
})();
