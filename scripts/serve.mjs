// Kinema's HTTP server for the demo and the tests: static files with correct MIME types,
// COOP/COEP (so pages are crossOriginIsolated and get SharedArrayBuffer), HTTP Range, and
// fault injection for network tests. Plain Node, no dependencies.
//
// CLI:    node scripts/serve.mjs --root www --port 8080 [--host 127.0.0.1]
// Module: const { url, close } = await startServer({ root, port: 0, mounts: { '/fixtures/': dir } })
//
// Faults: /__fault/<spec>/<real path>, spec comma-separated:
//   status=CODE   answer with that status        drop=N    send N body bytes, then reset
//   stall=MS      wait MS before the body         rate=BPS  throttle the body to BPS bytes/s
//   once          fault only the first request for that path (later ones are served normally)
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

/** Resolves a URL path to a file under one of the roots, refusing traversal. */
function locate(pathname, roots) {
  for (const [prefix, dir] of roots) {
    if (!pathname.startsWith(prefix)) continue;
    const rel = decodeURIComponent(pathname.slice(prefix.length));
    const file = resolve(dir, '.' + sep + rel);
    if (file !== dir && !file.startsWith(dir + sep)) return null;
    if (existsSync(file) && statSync(file).isDirectory()) {
      const index = join(file, 'index.html');
      return existsSync(index) ? index : null;
    }
    if (existsSync(file)) return file;
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

export async function startServer({ root = 'www', port = 0, host = '127.0.0.1', mounts = {} } = {}) {
  const roots = [
    ...Object.entries(mounts).map(([p, d]) => [p, resolve(d)]),
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
    const file = locate(pathname, roots);
    if (!file) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    const size = statSync(file).size;
    headers['Content-Type'] = MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
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
      const stream = createReadStream(file, { start, end, highWaterMark: 16 * 1024 });
      let sent = 0;
      const started = Date.now();
      stream.on('data', (chunk) => {
        if (fault.drop !== undefined && sent + chunk.length >= fault.drop) {
          res.write(chunk.subarray(0, Math.max(0, fault.drop - sent)));
          stream.destroy();
          res.socket?.destroy();
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
    if (fault.stall) later(Math.min(fault.stall, MAX_STALL_MS), send);
    else send();
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
  const { url } = await startServer({ root: arg('root', 'www'), port: Number(arg('port', 8080)), host: arg('host', '127.0.0.1'), mounts });
  console.log(`Kinema demo: ${url}`);
}
