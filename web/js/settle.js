// Promises that settle on the player's own events, the way HTMLMediaElement's play() does
// (web/src/player.rs: `load()` and `play()`).

/**
 * DOMException names for the player's error kinds (`PlayerError.kind`).
 * @type {Record<string, string>}
 */
const NAMES = {
  network: 'NetworkError',
  decode: 'EncodingError',
  unsupported: 'NotSupportedError',
  limit: 'QuotaExceededError',
  aborted: 'AbortError',
  'audio-output': 'NotAllowedError',
  'invalid-state': 'InvalidStateError',
};

/**
 * An `Error` named like the DOMException for `name`.
 * @param {string} name
 * @param {string} [message]
 */
export function namedError(name, message) {
  const e = new Error(message);
  e.name = name;
  return e;
}

/**
 * The player's typed error (`{kind, message}`) as an `Error` with `kind`, named by kind.
 * @param {any} detail what the core sent: normally `{kind, message}`
 */
export function playerError(detail) {
  const kind = (detail && detail.kind) || 'invalid-state';
  const e = /** @type {Error & Record<string, any>} */ (namedError(NAMES[kind] || 'Error', (detail && detail.message) || String(detail)));
  e.kind = kind;
  if (detail && typeof detail === 'object') for (const k of Object.keys(detail)) if (!(k in e)) e[k] = detail[k];
  return e;
}

/**
 * Settles on the first of these events dispatched on `target`: `ok` resolves with its detail,
 * `error` rejects with the typed error, any of `aborts` (after the first `skip` of them) rejects
 * with an AbortError saying `abortMessage`. Returns `{promise, resolve, reject}`; settling
 * removes the listeners.
 * @param {EventTarget} target
 * @param {string} ok
 * @param {string[]} aborts
 * @param {number} skip
 * @param {string} abortMessage
 * @returns {{ promise: Promise<any>, resolve: (v: any) => void, reject: (e: any) => void }}
 */
export function settleOn(target, ok, aborts, skip, abortMessage) {
  const types = [ok, 'error', ...aborts];
  /** @type {(v: any) => void} */
  let resolve;
  /** @type {(e: any) => void} */
  let reject;
  let skipped = 0;
  let done = false;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  /**
   * @param {(v: any) => void} f
   * @param {any} value
   */
  const finish = (f, value) => {
    if (done) return;
    done = true;
    for (const t of types) target.removeEventListener(t, on);
    f(value);
  };
  /** @param {Event} e a CustomEvent of the player's */
  const on = (e) => {
    if (e.type === ok) finish(resolve, /** @type {CustomEvent} */ (e).detail);
    else if (e.type === 'error') finish(reject, playerError(/** @type {CustomEvent} */ (e).detail));
    else if (skipped < skip) skipped += 1;
    else finish(reject, namedError('AbortError', abortMessage));
  };
  for (const t of types) target.addEventListener(t, on);
  return {
    promise,
    resolve: (v) => finish(resolve, v),
    reject: (e) => finish(reject, e),
  };
}
