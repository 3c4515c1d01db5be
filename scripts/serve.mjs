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
import { createServer } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { resolve, join, extname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  const later = (ms, fn) => { const t = setTimeout(() => { timers.delete(t); fn(); }, ms); timers.add(t); };

  const server = createServer((req, res) => {
    let url;
    try { url = new URL(req.url, 'http://localhost'); } catch { res.writeHead(400).end(); return; }
    let pathname = url.pathname;
    let fault = {};
    const fm = /^\/__fault\/([^/]+)(\/.*)$/.exec(pathname);
    if (fm) {
      fault = parseFault(fm[1]);
      pathname = fm[2];
      if (fault.once) {
        const n = (seen.get(req.url) ?? 0) + 1;
        seen.set(req.url, n);
        if (n > 1) fault = {};
      }
    }
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'no-store',
    };
    if (fault.status) {
      res.writeHead(fault.status, { ...headers, 'Content-Type': 'text/plain' });
      res.end(`injected status ${fault.status}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      return;
    }
    const found = locate(pathname, roots);
    if (found?.redirect) {
      res.writeHead(301, { ...headers, Location: found.redirect + url.search }).end();
      return;
    }
    if (!found) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    const { file } = found;
    let size;
    try { size = statSync(file).size; } catch { res.writeHead(404, headers).end(); return; }
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
    headers['Content-Length'] = String(size === 0 ? 0 : end - start + 1);
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || size === 0) { res.end(); return; }

    const send = () => {
      if (res.destroyed) return;
      // Throttled bodies go out in ~10 pieces a second, so the rate is smooth.
      const piece = fault.rate ? Math.max(1, Math.min(16 * 1024, Math.floor(fault.rate / 10))) : 16 * 1024;
      const stream = createReadStream(file, { start, end, highWaterMark: piece });
      let sent = 0;
      const started = Date.now();
      stream.on('data', (chunk) => {
        if (fault.drop !== undefined && sent + chunk.length >= fault.drop) {
          // Flush exactly N bytes of body, then cut the connection mid-response.
          stream.destroy();
          res.write(chunk.subarray(0, Math.max(0, fault.drop - sent)), () => res.socket?.destroy());
          later(1000, () => res.socket?.destroy());
          return;
        }
        sent += chunk.length;
        const ok = res.write(chunk);
        if (fault.rate) {
          const due = started + (sent / fault.rate) * 1000;
          const wait = due - Date.now();
          if (wait > 0) { stream.pause(); later(Math.min(wait, MAX_STALL_MS), () => stream.resume()); }
        } else if (!ok) {
          stream.pause();
          res.once('drain', () => stream.resume());
        }
      });
      stream.on('end', () => res.end());
      stream.on('error', () => res.socket?.destroy());
      res.on('close', () => stream.destroy());
    };
    if (fault.stall) {
      res.flushHeaders(); // the client sees the response start, then nothing for MS
      later(Math.min(fault.stall, MAX_STALL_MS), send);
    } else send();
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((ok, fail) => { server.once('error', fail); server.listen(port, host, ok); });
  const actual = server.address().port;
  return {
    url: `http://${host}:${actual}/`,
    port: actual,
    close: () => new Promise((ok) => {
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
  const root = arg('root', 'www');
  if (!existsSync(root)) { console.error(`serve.mjs: no such directory: ${root}`); process.exit(2); }
  const server = await startServer({ root, port: Number(arg('port', 8080)), host: arg('host', '127.0.0.1'), mounts });
  console.log(`Kinema demo: ${server.url}`);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close().then(() => process.exit(0)));
}
