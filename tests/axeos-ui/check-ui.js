// SPDX-License-Identifier: MIT
//
// Loads the real AxeOS web UI against one plutomock device in headless
// Chromium and reports everything that goes wrong on each page.
//
//   node check-ui.js --device URL --dist DIR --out DIR
//                    [--pages home,logs,...] [--settle MS] [--render-timeout MS]
//                    [--chromium PATH]
//
// The UI calls its API with relative URLs (/api/...) and opens its
// WebSockets on ws://<page host>/api/ws and /api/ws/live, so it must be
// served from the same origin as the API.  A small server on 127.0.0.1
// therefore serves the built UI (plain or .gz files, as the firmware does)
// and forwards every /api/ request, WebSocket upgrades included, to the
// device.  Host and Origin are rewritten to the device's own, as a browser
// that loaded the page from the device would send them.
//
// The Swarm page also calls http://<page hostname>/api/system/info (port
// 80) and, when that hostname is an IP address, every address of its /24.
// In the browser, requests to the page's hostname on port 80 go to the
// device through the same server; requests to any other host are refused,
// and only count as a problem when they are not such a Swarm probe.
//
// Each page is opened in a fresh browser context (empty localStorage), at
// http://127.0.0.1:PORT/#/<route>.  The script waits for the page's content
// to appear, then keeps watching for --settle ms (default 7000: longer than
// the 5 s the UI waits for a live-update frame before it reconnects), takes
// a screenshot and closes the context.
//
// A problem is: a console error, an uncaught page error, a failed request,
// an HTTP response with status >= 400, a WebSocket that fails or closes while
// watched, a live-update frame the UI would ignore, a page whose content never
// appears, a loading overlay still shown at the end, an error toast, or "NaN"
// / "undefined" / "Unable to reach the device" in the page text.
//
// Writes OUT/report.json, OUT/report.txt and OUT/NN-<page>.png.  Exit status:
// 0 when no page had a problem, 1 when some did, 2 when the check could not
// run (bad arguments, no browser, device not reachable).

'use strict';

const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const PAGES = [
  { name: 'home', route: '', ready: 'app-home .grid-stack-item' },
  { name: 'scoreboard', route: 'scoreboard', ready: 'app-scoreboard table' },
  { name: 'swarm', route: 'swarm', ready: 'app-swarm form' },
  { name: 'logs', route: 'logs', ready: 'app-logs #logs' },
  { name: 'system', route: 'system', ready: 'app-system table' },
  { name: 'pool', route: 'pool', ready: 'app-pool form' },
  { name: 'network', route: 'network', ready: 'app-network-edit form' },
  { name: 'theme', route: 'design', ready: 'app-theme-config app-radio-button' },
  { name: 'settings', route: 'settings', ready: 'app-edit form' },
  { name: 'update', route: 'update', ready: 'app-update h5' },
  // The setup page of a device in access-point mode; not in the default set.
  { name: 'ap', route: 'ap', ready: 'app-network-edit form', optional: true },
];

// Fields of /api/system/info and /api/system/asic the UI reads, with the
// type it expects and what happens when the value is missing or of another
// type.  Used only to explain failures (notes, not problems).
const INFO_FIELDS = [
  ['power', 'number', 'dashboard throws (power.toFixed)'],
  ['temp', 'number', 'dashboard throws (temp.toFixed)'],
  ['temp2', 'number', 'dashboard throws (temp2.toFixed); -1 means no second sensor'],
  ['responseTime', 'number', 'dashboard throws (responseTime.toFixed)'],
  ['fanspeed', 'number', 'dashboard throws (fanspeed.toFixed in the template)'],
  ['cpuUsage', 'number', 'System page throws (cpuUsage.toFixed)'],
  ['stratumURL', 'string', 'dashboard throws (toLowerCase in the pool quick link)'],
  ['stratumUser', 'string', 'dashboard throws (split / lastIndexOf)'],
  ['bestDiff', 'number', 'dashboard throws in the number pipe when it is a string'],
  ['bestSessionDiff', 'number', 'dashboard throws in the number pipe when it is a string'],
  ['errorPercentage', 'number', 'number pipe throws on a non-numeric string'],
  ['sharesAccepted', 'number', 'number pipe throws on a non-numeric string'],
  ['sharesRejected', 'number', 'rejected-share list logic'],
  ['sharesRejectedReasons', 'array', 'elements need message (string) and count (number)'],
  ['version', 'string', 'the app shows nothing until version or uptimeSeconds is truthy'],
  ['uptimeSeconds', 'number', 'the app shows nothing until version or uptimeSeconds is truthy'],
  ['hostname', 'string', 'top bar; Network page form'],
  ['voltage', 'number', 'shown as NaN (mV, divided by 1000)'],
  ['current', 'number', 'shown as NaN (mA, divided by 1000)'],
  ['coreVoltage', 'number', 'shown as NaN (mV, divided by 1000)'],
  ['coreVoltageActual', 'number', 'shown as NaN (mV, divided by 1000)'],
  ['hashRate', 'number', 'dashboard hashrate (GH/s)'],
  ['expectedHashrate', 'number', 'dashboard, chart scale'],
  ['maxPower', 'number', 'power bar'],
  ['nominalVoltage', 'number', 'input-voltage bar'],
  ['actualFrequency', 'number', 'frequency bar'],
  ['frequency', 'number', 'a value under 400 shows "frequency is set low"'],
  ['vrTemp', 'number', 'heat card'],
  ['fanrpm', 'number', 'fan card'],
  ['fan2rpm', 'number', 'fan card'],
  ['wifiRSSI', 'number', 'top bar Wi-Fi icon; System page'],
  ['freeHeap', 'number', 'System page'],
  ['pools', 'array', 'Pool page (missing: two empty pool cards)'],
  ['primaryPoolIndex', 'number', 'Pool page'],
  ['secondaryPoolIndex', 'number', 'Pool page'],
  ['statsFrequency', 'number', 'Settings page'],
  ['displayTimeout', 'number', 'Settings page'],
];
const ASIC_FIELDS = [
  ['ASICModel', 'string', 'System page'],
  ['deviceModel', 'string', 'System page'],
  ['swarmColor', 'string', 'System page'],
  ['asicCount', 'number', 'System page'],
  ['defaultFrequency', 'number', 'Settings page'],
  ['frequencyOptions', 'array', 'Settings page throws when missing (options.length)'],
  ['defaultVoltage', 'number', 'Settings page'],
  ['voltageOptions', 'array', 'Settings page throws when missing (options.length)'],
];

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain; charset=utf-8',
};

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate',
  'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

// The ESP-IDF log line the Logs page expects: a colour escape, a level
// letter, the milliseconds since boot, a tag and a message, then a reset.
const LOG_LINE = /^\x1b\[\d+;\d+m[EWIDV] \(\d+\) [^:]+:.*\x1b\[0m$/s;

function usage (message) {
  if (message)
    process.stderr.write(`check-ui: ${message}\n`);
  process.stderr.write(
    'usage: node check-ui.js --device URL --dist DIR --out DIR\n' +
    '         [--pages NAME,...] [--settle MS] [--render-timeout MS] [--chromium PATH]\n' +
    `pages: ${PAGES.map((p) => p.name).join(', ')}\n`);
  process.exit(2);
}

function parseArgs (argv) {
  const opts = {
    settle: Number(process.env.SETTLE_MS || 7000),
    renderTimeout: Number(process.env.RENDER_TIMEOUT_MS || 20000),
    chromium: process.env.CHROMIUM || '',
    pages: PAGES.filter((p) => !p.optional).map((p) => p.name),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length)
        usage(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--device': opts.device = value(); break;
      case '--dist': opts.dist = value(); break;
      case '--out': opts.out = value(); break;
      case '--pages': opts.pages = value().split(',').filter(Boolean); break;
      case '--settle': opts.settle = Number(value()); break;
      case '--render-timeout': opts.renderTimeout = Number(value()); break;
      case '--chromium': opts.chromium = value(); break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument '${arg}'`);
    }
  }
  if (!opts.device || !opts.dist || !opts.out)
    usage('--device, --dist and --out are required');
  let device;
  try {
    device = new URL(opts.device);
  } catch {
    usage(`'${opts.device}' is not a URL`);
  }
  if (device.protocol !== 'http:')
    usage('the device URL must be http://HOST:PORT');
  opts.deviceUrl = device;
  for (const name of opts.pages)
    if (!PAGES.some((p) => p.name === name))
      usage(`unknown page '${name}'`);
  if (!Number.isFinite(opts.settle) || opts.settle < 0)
    usage('--settle must be a number of milliseconds');
  if (!Number.isFinite(opts.renderTimeout) || opts.renderTimeout <= 0)
    usage('--render-timeout must be a number of milliseconds');
  opts.dist = path.resolve(opts.dist);
  if (!fs.existsSync(path.join(opts.dist, 'index.html')) &&
      !fs.existsSync(path.join(opts.dist, 'index.html.gz')))
    usage(`no index.html (or index.html.gz) in ${opts.dist}`);
  opts.out = path.resolve(opts.out);
  return opts;
}

function findChromium (given) {
  const candidates = given ? [given]
    : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  for (const c of candidates)
    if (fs.existsSync(c))
      return c;
  return null;
}

function typeOf (value) {
  if (value === null)
    return 'null';
  if (Array.isArray(value))
    return 'array';
  return typeof value;
}

function checkShape (body, fields) {
  const out = [];
  if (typeOf(body) !== 'object')
    return [`the body is ${typeOf(body)}, not an object`];
  for (const [name, type, effect] of fields) {
    if (!(name in body))
      out.push(`${name}: missing (wanted ${type}; ${effect})`);
    else if (typeOf(body[name]) !== type)
      out.push(`${name}: ${typeOf(body[name])} ${JSON.stringify(body[name])} (wanted ${type}; ${effect})`);
  }
  return out;
}

function printable (text, max = 160) {
  const s = String(text)
    .replace(/\x1b/g, '\\e')
    .replace(/\r/g, '\\r')
    .replace(/\n/g, '\\n');
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

/* ---- the server: built UI plus /api forwarding ---------------------------- */

function forwardHeaders (headers, device) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (HOP_BY_HOP.has(name))
      continue;
    out[name] = value;
  }
  out.host = device.host;
  if ('origin' in out)
    out.origin = device.origin;
  return out;
}

function serveFile (dist, req, res) {
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  if (pathname.endsWith('/'))
    pathname += 'index.html';
  const file = path.resolve(dist, `.${pathname}`);
  if (file !== dist && !file.startsWith(dist + path.sep)) {
    res.writeHead(403).end();
    return;
  }
  const type = MIME[path.extname(file).toLowerCase()] || 'application/octet-stream';
  const headers = { 'content-type': type, 'cache-control': 'no-store' };
  let chosen = null;
  if (fs.existsSync(file) && fs.statSync(file).isFile()) {
    chosen = file;
  } else if (fs.existsSync(`${file}.gz`)) {
    chosen = `${file}.gz`;
    headers['content-encoding'] = 'gzip';
  }
  if (!chosen || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(chosen ? 405 : 404, { 'content-type': 'text/plain' });
    res.end(chosen ? 'method not allowed\n' : 'no such file in the UI build\n');
    return;
  }
  headers['content-length'] = fs.statSync(chosen).size;
  res.writeHead(200, headers);
  if (req.method === 'HEAD')
    res.end();
  else
    fs.createReadStream(chosen).pipe(res);
}

function startServer (opts, upgrades, proxyErrors) {
  const device = opts.deviceUrl;
  const devicePort = Number(device.port || 80);

  const server = http.createServer((req, res) => {
    if (!req.url.startsWith('/api/') && req.url !== '/api') {
      serveFile(opts.dist, req, res);
      return;
    }
    const upstream = http.request({
      host: device.hostname,
      port: devicePort,
      method: req.method,
      path: req.url,
      headers: forwardHeaders(req.headers, device),
    }, (reply) => {
      const headers = {};
      for (const [name, value] of Object.entries(reply.headers))
        if (!HOP_BY_HOP.has(name))
          headers[name] = value;
      res.writeHead(reply.statusCode, reply.statusMessage, headers);
      reply.pipe(res);
      reply.on('error', () => res.destroy());
    });
    upstream.on('error', (err) => {
      proxyErrors.push(`${req.method} ${req.url}: ${err.message}`);
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`the device did not answer: ${err.message}\n`);
      } else {
        res.destroy();
      }
    });
    req.pipe(upstream);
  });

  server.on('upgrade', (req, socket, head) => {
    if (!req.url.startsWith('/api/')) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i];
      let value = req.rawHeaders[i + 1];
      const lower = name.toLowerCase();
      if (lower === 'host')
        value = device.host;
      else if (lower === 'origin')
        value = device.origin;
      lines.push(`${name}: ${value}`);
    }
    const upstream = net.connect(devicePort, device.hostname);
    upstream.setNoDelay(true);
    socket.setNoDelay(true);
    upstream.once('connect', () => {
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head && head.length)
        upstream.write(head);
      upstream.once('data', (chunk) => {
        const status = chunk.toString('latin1').split('\r\n', 1)[0];
        upgrades.push({ path: req.url, status });
      });
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', (err) => {
      proxyErrors.push(`WebSocket ${req.url}: ${err.message}`);
      socket.destroy();
    });
    socket.on('error', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function probeDevice (device) {
  return new Promise((resolve) => {
    const req = http.get({
      host: device.hostname,
      port: Number(device.port || 80),
      path: '/api/system/info',
      timeout: 5000,
    }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ok: true, status: res.statusCode }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (err) => resolve({ ok: false, error: err.message }));
  });
}

/* ---- one page ------------------------------------------------------------- */

// Runs in the page before its own scripts: remembers every toast the UI
// shows, since they go away after a few seconds.
function recordToasts () {
  window.__checkToasts = [];
  const seen = new WeakSet();
  const observer = new MutationObserver(() => {
    for (const el of document.querySelectorAll('#toast-container .ngx-toastr, #toast-container .toast')) {
      if (seen.has(el))
        continue;
      seen.add(el);
      const kind = ['error', 'warning', 'success', 'info']
        .find((k) => el.classList.contains(`toast-${k}`)) || 'toast';
      window.__checkToasts.push({ kind, text: (el.textContent || '').trim() });
    }
  });
  observer.observe(document, { childList: true, subtree: true });
}

function isSwarmProbe (url) {
  return /^\/api\/system\/(info|asic)$/.test(url.pathname);
}

async function describeConsole (msg) {
  const parts = [];
  for (const arg of msg.args()) {
    try {
      parts.push(await arg.evaluate((a) => {
        if (a instanceof Error)
          return a.stack || `${a.name}: ${a.message}`;
        if (a && typeof a === 'object') {
          if (typeof a.message === 'string')
            return a.message;
          try {
            return JSON.stringify(a);
          } catch {
            return String(a);
          }
        }
        return String(a);
      }));
    } catch {
      parts.push('?');
    }
  }
  const text = parts.length ? parts.join(' ') : msg.text();
  return text.replace(/%c/g, '');
}

async function checkPage (browser, base, opts, spec, index, shapes) {
  const result = {
    name: spec.name,
    url: `${base.origin}/#/${spec.route}`,
    rendered: false,
    renderMs: null,
    problems: [],
    notes: [],
    requests: {},
    staticFiles: 0,
    swarmProbes: { toDevice: 0, refused: 0 },
    websockets: [],
    screenshot: null,
  };
  const problem = (kind, detail) => {
    const same = result.problems.find((p) => p.kind === kind && p.detail === detail);
    if (same)
      same.count++;
    else
      result.problems.push({ kind, detail, count: 1 });
  };
  const note = (text) => {
    if (!result.notes.includes(text))
      result.notes.push(text);
  };
  const refused = new Set();
  const badUrls = new Set();
  const redirectedFrom = new Map();
  const markBad = (url) => {
    badUrls.add(url);
    if (redirectedFrom.has(url))
      badUrls.add(redirectedFrom.get(url));
  };
  const pending = [];
  let watching = true;

  const context = await browser.newContext({
    viewport: { width: 1366, height: 900 },
    serviceWorkers: 'block',
  });
  await context.addInitScript(recordToasts);
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.origin === base.origin)
      return route.continue();
    if (url.protocol === 'http:' && url.hostname === base.hostname &&
        (url.port === '' || url.port === '80') && url.pathname.startsWith('/api/')) {
      // The page's own host on port 80: where the UI believes the device is.
      const target = `${base.origin}${url.pathname}${url.search}`;
      result.swarmProbes.toDevice++;
      redirectedFrom.set(target, url.href);
      return route.continue({ url: target });
    }
    refused.add(url.href);
    if (isSwarmProbe(url))
      result.swarmProbes.refused++;
    else
      problem('outside-request', `${route.request().method()} ${url.href} (refused by the check)`);
    return route.abort('connectionrefused');
  });

  const page = await context.newPage();
  const started = Date.now();

  const label = (url) => {
    const u = new URL(url);
    if (u.origin === base.origin)
      return decodeURIComponent(`${u.pathname}${u.search}`);
    return decodeURIComponent(u.href);
  };

  page.on('console', (msg) => {
    if (!watching)
      return;
    const type = msg.type();
    if (type !== 'error' && type !== 'warning')
      return;
    const where = msg.location() && msg.location().url;
    if (/^Failed to load resource/.test(msg.text()) && where &&
        (refused.has(where) || badUrls.has(where)))
      return; // already reported as the request itself
    if (/^WebSocket connection to '[^']*' failed/.test(msg.text()))
      return; // reported as ws-error by the WebSocket itself
    pending.push(describeConsole(msg).then((text) => {
      if (type === 'error')
        problem('console-error', printable(text, 600));
      else
        note(`console warning: ${printable(text, 300)}`);
    }));
  });
  page.on('pageerror', (err) => {
    if (watching)
      problem('page-error', printable(err.stack || err.message, 600));
  });
  page.on('requestfailed', (req) => {
    if (!watching || refused.has(req.url()))
      return;
    const failure = (req.failure() && req.failure().errorText) || 'failed';
    const text = `${req.method()} ${label(req.url())}: ${failure}`;
    if (failure === 'net::ERR_ABORTED') {
      note(`request cancelled by the page: ${text}`);
      return;
    }
    markBad(req.url());
    problem('request-failed', text);
  });
  page.on('response', (res) => {
    if (!watching)
      return;
    const req = res.request();
    const u = new URL(res.url());
    const isApi = u.pathname.startsWith('/api/');
    if (!isApi) {
      result.staticFiles++;
    } else {
      const key = `${req.method()} ${label(res.url())}`;
      const entry = result.requests[key] || (result.requests[key] = {});
      entry[res.status()] = (entry[res.status()] || 0) + 1;
    }
    if (res.status() >= 400) {
      markBad(res.url());
      problem('http-status', `${req.method()} ${label(res.url())} -> ${res.status()} ${res.statusText()}`);
    }
    if (isApi && res.status() === 200 && u.origin === base.origin) {
      const which = u.pathname === '/api/system/info' ? 'info'
        : u.pathname === '/api/system/asic' ? 'asic' : null;
      if (which && !(which in shapes)) {
        shapes[which] = null;
        pending.push(res.json().then((body) => {
          shapes[which] = checkShape(body, which === 'info' ? INFO_FIELDS : ASIC_FIELDS);
        }, (err) => {
          shapes[which] = [`the body is not JSON: ${err.message}`];
        }));
      }
    }
  });
  page.on('websocket', (ws) => {
    const u = new URL(ws.url());
    const info = {
      path: u.pathname,
      openedAfterMs: Date.now() - started,
      framesReceived: 0,
      framesSent: 0,
      firstFrame: null,
      badFrames: 0,
      closedAfterMs: null,
      errors: [],
    };
    result.websockets.push(info);
    const live = u.pathname === '/api/ws/live';
    let logText = '';
    ws.on('framereceived', ({ payload }) => {
      if (!watching)
        return;
      const text = typeof payload === 'string' ? payload : payload.toString('utf8');
      info.framesReceived++;
      if (info.firstFrame === null)
        info.firstFrame = printable(text, 300);
      if (live) {
        let msg = null;
        try {
          msg = JSON.parse(text);
        } catch {
          // counted below
        }
        const fine = msg && typeOf(msg) === 'object' && msg.event === 'update' &&
          typeOf(msg.data) === 'object';
        if (!fine && info.badFrames++ === 0)
          problem('ws-frame', `${info.path}: the UI ignores this frame (it wants {"event":"update","data":{...}}): ${printable(text)}`);
      } else if (u.pathname === '/api/ws') {
        logText += text;
        const lines = logText.split('\n');
        logText = lines.pop();
        for (const line of lines) {
          if (!LOG_LINE.test(line) && info.badFrames++ === 0)
            problem('ws-frame', `${info.path}: not an ESP-IDF coloured log line, the Logs page shows it mangled: ${printable(line)}`);
        }
      }
    });
    ws.on('framesent', () => {
      info.framesSent++;
    });
    ws.on('socketerror', (error) => {
      if (!watching)
        return;
      info.errors.push(error);
      problem('ws-error', `${info.path}: ${error}`);
    });
    ws.on('close', () => {
      if (!watching)
        return;
      info.closedAfterMs = Date.now() - started;
      if (!info.errors.length)
        problem('ws-closed', `${info.path} closed ${info.closedAfterMs} ms after the page was opened (after ${info.framesReceived} frames)`);
    });
  });

  try {
    await page.goto(result.url, { waitUntil: 'load', timeout: 30000 });
  } catch (err) {
    problem('not-rendered', `the page did not load: ${err.message.split('\n')[0]}`);
  }
  try {
    await page.waitForSelector(spec.ready, { state: 'attached', timeout: opts.renderTimeout });
    result.rendered = true;
    result.renderMs = Date.now() - started;
  } catch {
    problem('not-rendered', `"${spec.ready}" did not appear within ${opts.renderTimeout} ms`);
  }

  // Watch the page working for a while: live updates, polling, reconnects.
  await page.waitForTimeout(opts.settle);

  try {
    const dom = await page.evaluate(() => {
      const root = document.querySelector('app-root');
      const text = root ? root.innerText : document.body.innerText;
      return {
        text,
        loading: !!document.querySelector('#loading'),
        toasts: window.__checkToasts || [],
        logLines: document.querySelectorAll('app-logs #logs > div').length,
        title: document.title,
      };
    });
    result.title = dom.title;
    for (const match of dom.text.matchAll(/.{0,40}\b(NaN|undefined)\b.{0,40}/g))
      problem('page-text', `shows "${match[1]}": ${printable(match[0].trim(), 100)}`);
    const stale = dom.text.match(/Unable to reach the device[^\n]*/);
    if (stale)
      problem('page-text', stale[0]);
    if (dom.loading)
      problem('loading', 'the loading overlay is still shown');
    for (const toast of dom.toasts) {
      if (toast.kind === 'error')
        problem('toast', `error toast: ${printable(toast.text, 200)}`);
      else
        note(`${toast.kind} toast: ${printable(toast.text, 200)}`);
    }
    if (spec.name === 'logs') {
      const logWs = result.websockets.filter((w) => w.path === '/api/ws');
      const frames = logWs.reduce((n, w) => n + w.framesReceived, 0);
      note(`${frames} log frame(s) received, ${dom.logLines} log entr${dom.logLines === 1 ? 'y' : 'ies'} shown`);
      if (frames > 0 && dom.logLines === 0)
        problem('logs', `${frames} log frame(s) arrived but none is shown (the page shows text only once it ends with a newline)`);
    }
    // The UI opens /api/ws/live again 2 s after the previous one failed or
    // closed, and closes it itself when no frame came for 5 s.
    const live = result.websockets.filter((w) => w.path === '/api/ws/live');
    for (let i = 1; i < live.length; i++)
      problem('ws-reconnect', '/api/ws/live opened again (count = extra opens)');
  } catch (err) {
    problem('page-check', `could not inspect the page: ${err.message.split('\n')[0]}`);
  }

  const shot = `${String(index + 1).padStart(2, '0')}-${spec.name}.png`;
  try {
    await page.screenshot({ path: path.join(opts.out, shot), fullPage: true });
    result.screenshot = shot;
  } catch (err) {
    note(`no screenshot: ${err.message.split('\n')[0]}`);
  }

  await Promise.allSettled(pending);
  watching = false;
  await context.close();
  if (result.swarmProbes.refused)
    note(`${result.swarmProbes.refused} Swarm scan request(s) to other addresses refused by the check`);
  return result;
}

/* ---- report --------------------------------------------------------------- */

function firstLine (text) {
  const line = text.split(/\\n|\n/, 1)[0];
  return line.length < text.length ? `${line} ...` : line;
}

function textReport (report) {
  const out = [];
  out.push(`AxeOS UI check: ${report.device} (UI from ${report.dist})`);
  out.push(`device probe: ${report.probe.ok ? `GET /api/system/info -> ${report.probe.status}` : report.probe.error}`);
  out.push(`browser: ${report.browser}`);
  out.push('');
  for (const p of report.pages) {
    const count = p.problems.reduce((n, pr) => n + pr.count, 0);
    out.push(`== ${p.name} (${p.url}): ${count ? `${count} problem(s)` : 'ok'}; ` +
             (p.rendered ? `rendered in ${p.renderMs} ms` : 'never rendered') +
             (p.screenshot ? `; ${p.screenshot}` : ''));
    out.push(`   ${p.staticFiles} UI file(s) loaded; API requests:`);
    const keys = Object.keys(p.requests).sort();
    if (!keys.length)
      out.push('     (none answered)');
    for (const k of keys) {
      const statuses = Object.entries(p.requests[k]).map(([s, n]) => `${s} x${n}`).join(', ');
      out.push(`     ${k}  [${statuses}]`);
    }
    const byPath = {};
    for (const w of p.websockets)
      (byPath[w.path] = byPath[w.path] || []).push(w);
    for (const [wsPath, list] of Object.entries(byPath)) {
      const frames = list.reduce((n, w) => n + w.framesReceived, 0);
      const closed = list.filter((w) => w.closedAfterMs !== null).length;
      const first = list.find((w) => w.firstFrame !== null);
      out.push(`   WebSocket ${wsPath}: opened ${list.length} time(s), ${frames} frame(s) received, ` +
               `${closed} closed while watched` + (first ? `; first frame: ${printable(first.firstFrame, 140)}` : ''));
    }
    if (p.swarmProbes.toDevice)
      out.push(`   ${p.swarmProbes.toDevice} request(s) to http://${report.pageHost}/api/... (port 80) sent to the device`);
    for (const pr of p.problems)
      out.push(`   PROBLEM ${pr.kind}${pr.count > 1 ? ` (x${pr.count})` : ''}: ${firstLine(pr.detail)}`);
    for (const n of p.notes)
      out.push(`   note: ${n}`);
    out.push('');
  }

  for (const [which, lines] of Object.entries(report.shapes)) {
    if (!lines || !lines.length)
      continue;
    out.push(`/api/system/${which}: fields the UI reads that are missing or of another type:`);
    for (const line of lines)
      out.push(`   ${line}`);
    out.push('');
  }
  if (report.upgrades.length) {
    out.push('WebSocket upgrades forwarded to the device (first line of its answer):');
    const counts = {};
    for (const u of report.upgrades) {
      const k = `${u.path}: ${u.status}`;
      counts[k] = (counts[k] || 0) + 1;
    }
    for (const [k, n] of Object.entries(counts))
      out.push(`   ${k}  x${n}`);
    out.push('');
  }
  if (report.proxyErrors.length) {
    out.push('forwarding errors:');
    for (const e of report.proxyErrors.slice(0, 20))
      out.push(`   ${e}`);
    out.push('');
  }

  const distinct = new Map();
  for (const p of report.pages) {
    for (const pr of p.problems) {
      const key = `${pr.kind}: ${firstLine(pr.detail)}`;
      if (!distinct.has(key))
        distinct.set(key, []);
      distinct.get(key).push(p.name);
    }
  }
  const bad = report.pages.filter((p) => p.problems.length);
  if (!bad.length) {
    out.push(`OK: ${report.pages.length} page(s), no problem`);
  } else {
    out.push(`FAILED: ${bad.length} of ${report.pages.length} page(s) had problems; ${distinct.size} distinct:`);
    for (const [key, pages] of distinct)
      out.push(`   ${key}  [${pages.join(', ')}]`);
  }
  return out.join('\n') + '\n';
}

async function main () {
  const opts = parseArgs(process.argv.slice(2));

  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch {
    process.stderr.write('check-ui: playwright-core is not installed; run npm ci in this directory\n');
    process.exit(2);
  }
  const executablePath = findChromium(opts.chromium);
  if (!executablePath) {
    process.stderr.write('check-ui: no Chromium found; install it (apt-get install chromium) or set CHROMIUM\n');
    process.exit(2);
  }

  const probe = await probeDevice(opts.deviceUrl);
  if (!probe.ok) {
    process.stderr.write(`check-ui: the device at ${opts.deviceUrl.origin} is not reachable: ${probe.error}\n`);
    process.exit(2);
  }

  fs.mkdirSync(opts.out, { recursive: true });
  const upgrades = [];
  const proxyErrors = [];
  const server = await startServer(opts, upgrades, proxyErrors);
  const base = new URL(`http://127.0.0.1:${server.address().port}`);

  const browser = await chromium.launch({ executablePath, headless: true });
  const report = {
    device: opts.deviceUrl.origin,
    dist: opts.dist,
    pageHost: base.hostname,
    browser: `${executablePath} ${browser.version()}`,
    probe,
    pages: [],
    shapes: {},
    upgrades,
    proxyErrors,
  };
  try {
    for (const [i, name] of opts.pages.entries()) {
      const spec = PAGES.find((p) => p.name === name);
      process.stderr.write(`check-ui: ${name} ...\n`);
      report.pages.push(await checkPage(browser, base, opts, spec, i, report.shapes));
    }
  } finally {
    await browser.close();
    server.closeAllConnections();
    server.close();
  }

  const text = textReport(report);
  fs.writeFileSync(path.join(opts.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  fs.writeFileSync(path.join(opts.out, 'report.txt'), text);
  process.stdout.write(text);
  process.exit(report.pages.some((p) => p.problems.length) ? 1 : 0);
}

main().catch((err) => {
  process.stderr.write(`check-ui: ${err.stack || err}\n`);
  process.exit(2);
});
