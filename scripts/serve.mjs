// Kinema's HTTP server for the demo and the tests: static files with correct MIME types,
// COOP/COEP (so pages are crossOriginIsolated and get SharedArrayBuffer), HTTP Range, and
// fault injection for network tests. Plain Node, no dependencies.
//
// CLI:    node scripts/serve.mjs --root www --port 8080 [--host 127.0.0.1]
//         (also mounts tests/fixtures/gen/ at /fixtures/ when it exists)
// Module: const { url, port, close } = await startServer({ root, port: 0, mounts: { '/fixtures/': dir } })
//
// Every response: COOP same-origin, COEP require-corp, CORP same-origin, Accept-Ranges: bytes,
// Cache-Control: no-store. Range: one range (a-b, a-, -n) → 206 + Content-Range; unsatisfiable
// → 416 + `Content-Range: bytes */SIZE`; several ranges → the whole file (200). HEAD works.
// A directory serves its index.html (redirecting /dir to /dir/ first).
//
// Faults: /__fault/<spec>/<real path>, spec comma-separated:
//   status=CODE   answer with that status        drop=N    send N body bytes, then reset
//   stall=MS      wait MS before the body         rate=BPS  throttle the body to BPS bytes/s
//   once          fault only the first request for that URL (later ones are served normally)
// e.g. /__fault/drop=20000/fixtures/clicks-10s.wav, /__fault/status=503,once/media/sample.m4a
//
// Live: /__live/<spec>/<VOD .m3u8 or .mpd> serves it as a live stream that moves with wall time
// and loops the VOD forever (spec: start=EPOCH_MS,window=S,speed=X; scripts/serve-live.mjs);
// the query form /__live/<path>?start=&window=&speed= redirects there.
//
// Sessions: POST /__control/<session> with JSON faults (rate shared by the whole session,
// latencyMs, status/reset/stall rules with regex patterns and seeded probabilities, outage;
// scripts/serve-control.mjs); requests under /__s/<session>/<path> obey them and are logged:
//   GET /__control/<session>          the config        DELETE /__control/<session>      forget it
//   GET /__control/<session>/log      { entries: [{ id, method, path, range, status, bytes,
//                                     startMs, endMs, complete, faults: ['status=404', …] }] }
//   DELETE /__control/<session>/log   clear the log
// The prefixes combine: /__s/<session>/__fault/<spec>/__live/<spec>/fixtures/streams/….
import { createServer } from 'node:http';
import { createReadStream, existsSync, statSync, readFileSync, readdirSync } from 'node:fs';
import { resolve, join, extname, sep, dirname, basename } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { LiveError, parseLiveSpec, specFromQuery, liveAnswer } from './serve-live.mjs';
import { ControlError, Sessions } from './serve-control.mjs';

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm', '.ts': 'video/mp2t',
  '.mp3': 'audio/mpeg', '.m4a': 'audio/mp4', '.mp4': 'video/mp4', '.m4s': 'video/iso.segment',
  '.aac': 'audio/aac', '.flac': 'audio/flac', '.wav': 'audio/wav', '.ogg': 'audio/ogg',
  '.opus': 'audio/ogg', '.webm': 'video/webm', '.vtt': 'text/vtt', '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
};
const MAX_STALL_MS = 120_000;

function parseFault(spec) {
  const fault = {};
  for (const part of spec.split(',')) {
    const [k, v] = part.split('=');
    if (k === 'once') fault.once = true;
    else if (['status', 'drop', 'stall', 'rate'].includes(k) && /^\d+$/.test(v ?? '')) fault[k] = Number(v);
  }
  return fault;
}

/**
 * Resolves a URL path to `{ file }`, `{ redirect }` (a directory without its trailing slash) or
 * null, under the first root whose prefix matches and holds it. Refuses traversal and bad escapes.
 */
function locate(pathname, roots) {
  let decoded;
  try { decoded = decodeURIComponent(pathname); } catch { return null; }
  if (decoded.includes('\0')) return null;
  for (const [prefix, dir] of roots) {
    if (!decoded.startsWith(prefix)) continue;
    const file = resolve(dir, '.' + sep + decoded.slice(prefix.length));
    if (file !== dir && !file.startsWith(dir + sep)) return null;
    let st;
    try { st = statSync(file); } catch { continue; }
    if (st.isDirectory()) {
      if (!pathname.endsWith('/')) return { redirect: pathname + '/' };
      const index = join(file, 'index.html');
      if (existsSync(index)) return { file: index };
      continue;
    }
    if (st.isFile()) return { file };
  }
  return null;
}

/** The directory a URL path names (for a file that may not exist), or null. */
function locateDir(pathname, roots) {
  const found = locate(pathname.endsWith('/') ? pathname : pathname + '/', roots);
  if (found?.file) return dirname(found.file);
  let decoded;
  try { decoded = decodeURIComponent(pathname); } catch { return null; }
  for (const [prefix, dir] of roots) {
    if (!decoded.startsWith(prefix)) continue;
    const d = resolve(dir, '.' + sep + decoded.slice(prefix.length));
    if (d !== dir && !d.startsWith(dir + sep)) return null;
    try { if (statSync(d).isDirectory()) return d; } catch { /* next root */ }
  }
  return null;
}

function parseRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec((header || '').trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start, end;
  if (m[1] === '') { start = Math.max(0, size - Number(m[2])); end = size - 1; }
  else { start = Number(m[1]); end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1); }
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/**
 * Starts the server. `mounts` (alias `extraRoots`) maps URL prefixes such as '/fixtures/' to
 * directories; everything else comes from `root`. Resolves to { url, port, close() }.
 */
export async function startServer({ root = 'www', port = 0, host = '127.0.0.1', extraRoots = {}, mounts = {} } = {}) {
  const roots = [
    ...Object.entries({ ...mounts, ...extraRoots })
      .map(([p, d]) => [p.endsWith('/') ? p : p + '/', resolve(d)])
      .sort((a, b) => b[0].length - a[0].length),
    ['/', resolve(root)],
  ];
  const seen = new Map();
  const sockets = new Set();
  const timers = new Set();
  const sessions = new Sessions();
  const startedAt = Math.floor(Date.now() / 1000) * 1000; // the default live start
  const later = (ms, fn) => { const t = setTimeout(() => { timers.delete(t); fn(); }, ms); timers.add(t); };
  const sleep = (ms) => new Promise((ok) => later(Math.min(ms, MAX_STALL_MS), ok));
  const baseHeaders = () => ({
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'no-store',
  });

  async function control(req, res, pathname) {
    const m = /^\/__control\/([^/]+)(\/log)?\/?$/.exec(pathname);
    const json = (code, body) => res.writeHead(code, { ...baseHeaders(), 'Content-Type': 'application/json' }).end(JSON.stringify(body) + '\n');
    if (!m || !Sessions.valid(m[1])) return json(404, { error: 'use /__control/<session>[/log], session [A-Za-z0-9_.-]{1,64}' });
    const [, name, log] = m;
    if (log) {
      if (req.method === 'GET') return json(200, { session: name, entries: sessions.get(name).log });
      if (req.method === 'DELETE') { sessions.get(name).log = []; return json(200, { session: name, entries: [] }); }
      return json(405, { error: 'GET or DELETE' });
    }
    if (req.method === 'GET') return json(200, sessions.get(name));
    if (req.method === 'DELETE') { sessions.delete(name); return json(200, { session: name, deleted: true }); }
    if (req.method !== 'POST') return json(405, { error: 'GET, POST or DELETE' });
    let body = '';
    for await (const chunk of req) {
      body += chunk;
      if (body.length > 65536) return json(413, { error: 'config larger than 64 KiB' });
    }
    try {
      const s = sessions.get(name);
      s.configure(body.trim() ? JSON.parse(body) : {});
      return json(200, s);
    } catch (e) {
      if (e instanceof ControlError || e instanceof SyntaxError) return json(400, { error: e.message });
      throw e;
    }
  }

  /** The $Number$ MPD of a directory (cached by mtime), for live DASH segment requests. */
  const mpdCache = new Map();
  function dirMpds(dir) {
    const out = [];
    let names;
    try { names = readdirSync(dir).filter((n) => n.endsWith('.mpd')); } catch { return out; }
    for (const n of names) {
      const f = join(dir, n);
      const mtime = statSync(f).mtimeMs;
      let c = mpdCache.get(f);
      if (!c || c.mtime !== mtime) { c = { mtime, text: readFileSync(f, 'utf8') }; mpdCache.set(f, c); }
      out.push(c.text);
    }
    return out;
  }

  async function handle(req, res) {
    let url;
    try { url = new URL(req.url, 'http://localhost'); } catch { res.writeHead(400).end(); return; }
    let pathname = url.pathname;
    if (pathname.startsWith('/__control/')) return control(req, res, pathname);
    const headers = baseHeaders();
    // Prefixes, outermost first: /__s/<session>, /__fault/<spec>, /__live/<spec>.
    let session = null, fault = {}, live = null, prefix = '';
    const sm = /^\/__s\/([^/]+)(\/.*)$/.exec(pathname);
    if (sm && Sessions.valid(sm[1])) { session = sessions.get(sm[1]); prefix = `/__s/${sm[1]}`; pathname = sm[2]; }
    const path = pathname;
    const entry = session?.begin(req, path);
    if (session) {
      session.inFlight.add(res);
      // The entry is filled in as the response goes (a client may read the log before
      // this side sees 'close').
      const writeHead = res.writeHead.bind(res);
      res.writeHead = (code, ...rest) => { entry.status = code; return writeHead(code, ...rest); };
      const end = res.end.bind(res);
      res.end = (...args) => { entry.complete = true; entry.endMs ??= Date.now(); return end(...args); };
      res.on('close', () => { session.inFlight.delete(res); entry.endMs ??= Date.now(); });
      if (session.inOutage()) { entry.faults.push('outage'); req.socket.destroy(); return; }
      const latency = session.faults.latencyMs;
      if (latency) { entry.faults.push(`latency=${latency}`); await sleep(latency); if (res.destroyed) return; }
      const status = session.pick('status', path);
      if (status) {
        entry.faults.push(`status=${status.code}`);
        res.writeHead(status.code, { ...headers, 'Content-Type': 'text/plain' }).end(`injected status ${status.code}\n`);
        return;
      }
    }
    for (;;) {
      const fm = /^\/__fault\/([^/]+)(\/.*)$/.exec(pathname);
      const lm = /^\/__live\/([^/]*)(\/.*)$/.exec(pathname);
      if (fm) {
        fault = parseFault(fm[1]);
        prefix += `/__fault/${fm[1]}`;
        pathname = fm[2];
        if (fault.once) {
          const n = (seen.get(req.url) ?? 0) + 1;
          seen.set(req.url, n);
          if (n > 1) fault = {};
        }
      } else if (lm && (lm[1].includes('=') || lm[1] === '-')) {
        try { live = parseLiveSpec(lm[1], startedAt); } catch (e) {
          res.writeHead(400, { ...headers, 'Content-Type': 'text/plain' }).end(`${e.message}\n`);
          return;
        }
        prefix += `/__live/${lm[1]}`;
        pathname = lm[2];
      } else if (lm) {
        // The query form: redirect to the path form, so relative URIs keep the live spec.
        res.writeHead(302, { ...headers, Location: `${prefix}/__live/${specFromQuery(url.searchParams)}${pathname.slice(7)}` }).end();
        return;
      } else break;
    }
    if (fault.status) {
      res.writeHead(fault.status, { ...headers, 'Content-Type': 'text/plain' });
      res.end(`injected status ${fault.status}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      return;
    }
    const notFound = (why = 'not found') => res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end(`${why}\n`);
    let found = locate(pathname, roots);
    let body = null; // a generated body (live manifests) instead of the file
    const now = Date.now();
    if (live && !found?.redirect) {
      let dir = null;
      const dirTexts = () => {
        dir = locateDir(pathname.slice(0, pathname.lastIndexOf('/') + 1), roots);
        return dir ? dirMpds(dir) : [];
      };
      try {
        const read = found ? () => readFileSync(found.file, 'utf8') : null;
        const answer = liveAnswer(pathname, read, dirTexts, live, now, prefix);
        if (answer?.body !== undefined) body = Buffer.from(answer.body);
        else if (answer?.notYet) { notFound(`live segment ${basename(pathname)} is not available yet`); return; }
        else if (answer?.file && dir) found = { file: join(dir, answer.file) };
      } catch (e) {
        if (!(e instanceof LiveError)) throw e;
        res.writeHead(400, { ...headers, 'Content-Type': 'text/plain' }).end(`${e.message}\n`);
        return;
      }
    }
    if (found?.redirect) {
      res.writeHead(301, { ...headers, Location: prefix + found.redirect + url.search }).end();
      return;
    }
    if (!found) { notFound(); return; }
    const { file } = found;
    let size;
    if (body) size = body.length;
    else {
      try { size = statSync(file).size; } catch { notFound(); return; }
    }
    headers['Content-Type'] = file.toLowerCase().endsWith('.d.ts')
      ? 'text/plain; charset=utf-8' // TypeScript declarations (www/pkg/*.d.ts), not MPEG-TS
      : MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
    let status = 200, start = 0, end = size - 1;
    const range = req.headers.range ? parseRange(req.headers.range, size) : null;
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    if (range) {
      ({ start, end } = range);
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    }
    const length = size === 0 ? 0 : end - start + 1;
    headers['Content-Length'] = String(length);
    // The session's body faults, decided before the headers go out.
    const stall = session?.pick('stall', path);
    const reset = session?.pick('reset', path);
    const plan = { rate: fault.rate, stall: null, cut: undefined, length };
    if (fault.stall) plan.stall = { at: 0, ms: fault.stall };
    if (stall) { plan.stall = { at: Math.min(stall.afterBytes, length), ms: stall.ms }; entry.faults.push(`stall=${stall.ms}@${plan.stall.at}`); }
    if (fault.drop !== undefined) plan.cut = fault.drop;
    if (reset) {
      const at = Math.min(reset.afterBytes ?? Math.floor(length / 2), Math.max(0, length - 1));
      plan.cut = Math.min(plan.cut ?? Infinity, at);
      entry.faults.push(`reset@${at}`);
    }
    if (session?.faults.rate) entry.faults.push(`rate=${session.faults.rate}`);
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || length === 0) {
      if (plan.cut === 0 && reset) { res.flushHeaders(); res.socket?.destroy(); return; }
      res.end();
      return;
    }
    const stream = body ? Readable.from([body.subarray(start, end + 1)]) : createReadStream(file, { start, end, highWaterMark: 64 * 1024 });
    res.on('close', () => stream.destroy());
    await pump(res, stream, plan, session, entry);
  }

  /**
   * Sends the body: throttled by the request's own rate and the session's shared link, paused
   * by a stall, cut (socket destroyed after exactly `cut` bytes) by drop/reset.
   */
  async function pump(res, stream, plan, session, entry) {
    const started = Date.now();
    let sent = 0, stalled = !plan.stall;
    const cutNow = () => {
      const kill = () => res.socket?.destroy();
      if (sent === 0) res.flushHeaders();
      res.socket ? res.socket.write('', kill) : kill();
      later(1000, kill);
    };
    try {
      for await (const chunk of stream) {
        for (let off = 0; off < chunk.length;) {
          if (res.destroyed) return;
          if (!stalled && sent >= plan.stall.at) {
            stalled = true;
            res.flushHeaders(); // the client sees the response start, then nothing for MS
            await sleep(plan.stall.ms);
            continue;
          }
          if (plan.cut !== undefined && sent >= plan.cut) { cutNow(); return; }
          // Throttled bodies go out in ~10 (own rate) or ~20 (session link) pieces a second.
          let n = Math.min(chunk.length - off, 16 * 1024, plan.rate ? Math.max(1, Math.floor(plan.rate / 10)) : Infinity);
          if (session) n = session.piece(n);
          for (const at of [stalled ? undefined : plan.stall.at, plan.cut]) if (at !== undefined && at > sent && at < sent + n) n = at - sent;
          const wait = Math.max(session ? session.reserve(n) : 0, plan.rate ? started + ((sent + n) / plan.rate) * 1000 - Date.now() : 0);
          if (wait > 0) { await sleep(wait); if (res.destroyed) return; }
          const ok = res.write(chunk.subarray(off, off + n));
          off += n; sent += n;
          if (entry) {
            entry.bytes = sent;
            if (sent === plan.length && plan.cut === undefined) { entry.complete = true; entry.endMs = Date.now(); }
          }
          if (!ok) {
            await new Promise((/** @type {(value?: unknown) => void} */ done) => {
              const both = () => { res.off('drain', both); res.off('close', both); done(); };
              res.on('drain', both);
              res.on('close', both);
            });
          }
        }
      }
      if (plan.cut !== undefined && sent >= plan.cut) { cutNow(); return; }
      res.end();
    } catch {
      res.socket?.destroy();
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      console.error(`serve.mjs: ${req.url}: ${e.stack ?? e}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' }).end('internal error\n');
      else res.socket?.destroy();
    });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((/** @type {(value?: unknown) => void} */ ok, fail) => { server.once('error', fail); server.listen(port, host, ok); });
  const actual = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  return {
    url: `http://${host}:${actual}/`,
    port: actual,
    sessions,
    close: () => new Promise((/** @type {(value?: unknown) => void} */ ok) => {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      server.close(() => ok());
    }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
  };
  const fixtures = resolve(fileURLToPath(new URL('../tests/fixtures/gen', import.meta.url)));
  const mounts = existsSync(fixtures) ? { '/fixtures/': fixtures } : {};
  // The packaged TV apps (scripts/package-devices.sh), when they exist.
  const apps = resolve(fileURLToPath(new URL('../dist', import.meta.url)));
  if (existsSync(apps)) mounts['/apps/'] = apps;
  const root = arg('root', 'www');
  if (!existsSync(root)) { console.error(`serve.mjs: no such directory: ${root}`); process.exit(2); }
  const server = await startServer({ root, port: Number(arg('port', 8080)), host: arg('host', '127.0.0.1'), mounts });
  console.log(`Kinema demo: ${server.url}`);
  if (mounts['/apps/']) console.log(`TV app (D-pad: arrows, Enter, Escape; ?device=tizen|webos|hbbtv|xbox): ${server.url}apps/tizen/index.html?device=browser`);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close().then(() => process.exit(0)));
}
