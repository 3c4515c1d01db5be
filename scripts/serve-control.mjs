// Per-test fault sessions for scripts/serve.mjs: what `POST /__control/<session>` sets and
// what requests under /__s/<session>/… obey, the session's shared link (bandwidth cap), its
// seeded PRNG and its request log. No dependencies.
//
// Config (JSON, POST merges key by key; null removes a key; `clear: true` removes all first):
//   rate: BYTES_PER_S             cap on the session as a whole: concurrent bodies share it
//   latencyMs: MS                 delay before every response's headers
//   status: RULE | [RULE]         RULE { pattern, code, probability }: answer CODE instead
//   reset:  RULE | [RULE]         RULE { pattern, probability, afterBytes }: destroy the socket
//                                 after afterBytes of body (default: half the body)
//   stall:  RULE | [RULE]         RULE { pattern, probability, ms, afterBytes }: pause the body
//                                 for ms after afterBytes (default 0: before the first byte)
//   outage: { untilMs } | { durationMs }   destroy every request (and those in flight when it
//                                 is set) until then (untilMs: epoch ms)
//   seed: INT                     restart the PRNG (default seed: a hash of the session name)
// pattern: a JavaScript regex tested against the request path after /__s/<session> (default:
// every path); probability (default 1) is drawn from the session's PRNG (mulberry32) once per
// matching rule with 0 < p < 1, in the order status, stall, reset: the same seed and the same
// request order give the same faults.

const MAX_MS = 120_000;
const MAX_LOG = 10_000;
const MAX_SESSIONS = 256;

/** mulberry32: a small seeded PRNG, [0, 1) floats. Exported so tests can predict the faults. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string: the default seed of a session. */
export function hashSeed(s) {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(s)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return h;
}

/** Config error: the control API answers 400 with its message. */
export class ControlError extends Error {}

const num = (v, name, lo, hi) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) throw new ControlError(`${name}: a number in ${lo}..${hi}`);
  return v;
};
function rules(v, name, extra) {
  const list = Array.isArray(v) ? v : [v];
  if (list.length > 32) throw new ControlError(`${name}: at most 32 rules`);
  return list.map((r) => {
    if (!r || typeof r !== 'object') throw new ControlError(`${name}: a rule object or an array of them`);
    let re = null;
    if (r.pattern !== undefined && r.pattern !== null) {
      if (typeof r.pattern !== 'string' || r.pattern.length > 1000) throw new ControlError(`${name}.pattern: a regex string`);
      try { re = new RegExp(r.pattern); } catch (e) { throw new ControlError(`${name}.pattern: ${e.message}`); }
    }
    return { pattern: r.pattern ?? null, re, probability: r.probability === undefined ? 1 : num(r.probability, `${name}.probability`, 0, 1), ...extra(r) };
  });
}

/** One session: faults, PRNG, shared link, log, responses in flight. */
export class Session {
  constructor(name) {
    this.name = name;
    this.created = Date.now();
    this.faults = {};
    this.seed = hashSeed(name);
    this.random = mulberry32(this.seed);
    this.log = [];
    this.nextId = 1;
    this.linkFree = 0; // when the shared link is next free (epoch ms)
    this.inFlight = new Set();
  }

  /** Applies a POSTed config (see the file comment). Throws ControlError on bad input. */
  configure(body) {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ControlError('body: a JSON object');
    const known = ['rate', 'latencyMs', 'status', 'reset', 'stall', 'outage', 'seed', 'clear'];
    for (const k of Object.keys(body)) if (!known.includes(k)) throw new ControlError(`unknown key ${k} (known: ${known.join(', ')})`);
    const next = body.clear ? {} : { ...this.faults };
    const set = (k, f) => { if (body[k] === null) delete next[k]; else if (body[k] !== undefined) next[k] = f(body[k]); };
    set('rate', (v) => num(v, 'rate', 1, 1e10));
    set('latencyMs', (v) => num(v, 'latencyMs', 0, MAX_MS));
    set('status', (v) => rules(v, 'status', (r) => ({ code: Math.floor(num(r.code, 'status.code', 100, 599)) })));
    set('reset', (v) => rules(v, 'reset', (r) => ({ afterBytes: r.afterBytes === undefined ? null : Math.floor(num(r.afterBytes, 'reset.afterBytes', 0, 1e12)) })));
    set('stall', (v) => rules(v, 'stall', (r) => ({
      ms: num(r.ms, 'stall.ms', 0, MAX_MS), afterBytes: r.afterBytes === undefined ? 0 : Math.floor(num(r.afterBytes, 'stall.afterBytes', 0, 1e12)),
    })));
    set('outage', (v) => {
      if (!v || typeof v !== 'object') throw new ControlError('outage: { untilMs } or { durationMs }');
      if (v.untilMs !== undefined) return { untilMs: num(v.untilMs, 'outage.untilMs', 0, 1e14) };
      return { untilMs: Date.now() + num(v.durationMs, 'outage.durationMs', 0, 3_600_000) };
    });
    if (body.seed !== undefined) {
      this.seed = Math.floor(num(body.seed, 'seed', 0, 2 ** 32 - 1));
      this.random = mulberry32(this.seed);
    }
    this.faults = next;
    if (this.inOutage()) for (const res of this.inFlight) res.socket?.destroy();
  }

  /** The config as JSON (regexes as their source). */
  toJSON() {
    const strip = (v) => (Array.isArray(v) ? v.map(({ re, ...r }) => r) : v);
    return { session: this.name, seed: this.seed, faults: Object.fromEntries(Object.entries(this.faults).map(([k, v]) => [k, strip(v)])), requests: this.nextId - 1 };
  }

  inOutage(now = Date.now()) { return (this.faults.outage?.untilMs ?? 0) > now; }

  /** The first rule of `kind` that matches `path` and wins its draw, or null. */
  pick(kind, path) {
    for (const r of this.faults[kind] ?? []) {
      if (r.re && !r.re.test(path)) continue;
      if (r.probability >= 1) return r;
      if (r.probability > 0 && this.random() < r.probability) return r;
    }
    return null;
  }

  /** Milliseconds to wait before sending `n` bytes over the shared link (0 without a cap). */
  reserve(n) {
    const rate = this.faults.rate;
    if (!rate) return 0;
    const now = Date.now();
    // A busy link keeps its schedule (late timers are caught up); an idle one starts now, so
    // idle time never turns into a burst.
    this.linkFree = (this.linkFree >= now - 250 ? this.linkFree : now) + (n * 1000) / rate;
    return this.linkFree - now;
  }

  /** Bytes per write while a cap is on (~20 writes a second), else `dflt`. */
  piece(dflt) {
    const rate = this.faults.rate;
    return rate ? Math.max(1, Math.min(dflt, Math.floor(rate / 20))) : dflt;
  }

  /** Starts a log entry for a request; the server fills it in and ends it. */
  begin(req, path) {
    const entry = {
      id: this.nextId++, method: req.method, path, range: req.headers.range ?? null, status: 0, bytes: 0,
      startMs: Date.now(), endMs: null, complete: false, faults: [],
    };
    this.log.push(entry);
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
    return entry;
  }
}

/** The sessions of one server, created on first use (the oldest is dropped past 256). */
export class Sessions {
  constructor() { this.map = new Map(); }
  static valid(name) { return /^[A-Za-z0-9_.-]{1,64}$/.test(name); }
  get(name) {
    let s = this.map.get(name);
    if (!s) {
      if (this.map.size >= MAX_SESSIONS) this.map.delete(this.map.keys().next().value);
      s = new Session(name);
      this.map.set(name, s);
    }
    return s;
  }
  delete(name) { return this.map.delete(name); }
}
