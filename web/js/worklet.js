// Kinema's audio output: an AudioWorkletProcessor that plays interleaved stereo f32 queued by
// the host and counts the frames it really played (silence from an empty queue is not counted;
// a quantum that wanted data and found too little is an underrun).
//
// Two transports, chosen by the host (web/src/audio.rs documents the protocol in full):
// - SharedArrayBuffer ring (when crossOriginIsolated): no messages, no allocation here.
//   header (Int32Array): H_* below; data (Float32Array): CAP frames × 2 channels, CAP a power
//   of two, frame i in slot i & (CAP - 1). WRITE/READ are frame counters wrapping as int32;
//   only the host moves WRITE, only this processor moves READ. A flush: the host stores
//   FLUSH_AT = its WRITE, then FLUSH_EPOCH. Here WRITE is loaded BEFORE FLUSH_EPOCH, so samples
//   written after a flush are never played under the epoch before it.
// - Messages (otherwise): {type:'queue'|'flush'|'run'}; progress posted every 8 quanta.
const H_WRITE = 0, H_READ = 1, H_EPOCH = 2, H_PLAYED = 3, H_RUN = 4, H_UNDERRUNS = 5,
  H_FLUSH_EPOCH = 6, H_FLUSH_AT = 7;

/**
 * A message from the host (message transport).
 * @typedef {{ type: 'queue', epoch: number, samples: Float32Array }
 *   | { type: 'flush', epoch: number } | { type: 'run', on: boolean }} HostMessage
 */

class KinemaOutput extends AudioWorkletProcessor {
  /** @param {AudioWorkletNodeOptions} [options] */
  constructor(options) {
    super();
    const o = (options && options.processorOptions) || {};
    this.epoch = 0;
    this.played = 0;
    this.underruns = 0;
    this.running = false;
    this.quanta = 0;
    // Each transport sets its own fields: header/data/mask (ring) or queue/offset (messages).
    if (o.header && o.data) {
      /** @type {Int32Array} */
      this.header = new Int32Array(o.header);
      /** @type {Float32Array} */
      this.data = new Float32Array(o.data);
      /** @type {number} */
      this.mask = ((this.data.length / 2) | 0) - 1;
    } else {
      /** @type {Float32Array[]} */
      this.queue = [];
      /** @type {number} */
      this.offset = 0;
      this.port.onmessage = (e) => this.onMessage(e.data);
    }
  }

  /** @param {HostMessage} m */
  onMessage(m) {
    if (m.type === 'queue') {
      if (m.epoch === this.epoch) this.queue.push(m.samples);
    } else if (m.type === 'flush') {
      this.queue = [];
      this.offset = 0;
      this.epoch = m.epoch;
      this.played = 0;
      this.report();
    } else if (m.type === 'run') {
      this.running = !!m.on;
    }
  }

  report() {
    this.port.postMessage({ type: 'progress', epoch: this.epoch, played: this.played, underruns: this.underruns });
  }

  /**
   * Fills left/right from the ring; returns the frames written.
   * @param {Float32Array} left
   * @param {Float32Array} right
   * @param {number} n
   */
  fromRing(left, right, n) {
    const h = this.header;
    const write = Atomics.load(h, H_WRITE);
    const flushEpoch = Atomics.load(h, H_FLUSH_EPOCH);
    if (flushEpoch !== this.epoch) {
      Atomics.store(h, H_READ, Atomics.load(h, H_FLUSH_AT));
      this.epoch = flushEpoch;
      this.played = 0;
      Atomics.store(h, H_PLAYED, 0);
      Atomics.store(h, H_EPOCH, flushEpoch);
    }
    if (Atomics.load(h, H_RUN) !== 1) return 0;
    const read = Atomics.load(h, H_READ);
    // <= 0 right after a flush whose FLUSH_AT is newer than the WRITE loaded above.
    const avail = (write - read) | 0;
    const filled = avail < n ? (avail > 0 ? avail : 0) : n;
    const data = this.data, mask = this.mask;
    for (let i = 0; i < filled; i++) {
      const at = ((read + i) & mask) * 2;
      left[i] = data[at];
      right[i] = data[at + 1];
    }
    Atomics.store(h, H_READ, (read + filled) | 0);
    this.played += filled;
    Atomics.store(h, H_PLAYED, this.played);
    if (filled < n) Atomics.store(h, H_UNDERRUNS, ++this.underruns);
    return filled;
  }

  /**
   * Fills left/right from the message queue; returns the frames written.
   * @param {Float32Array} left
   * @param {Float32Array} right
   * @param {number} n
   */
  fromQueue(left, right, n) {
    if (!this.running) return 0;
    let filled = 0;
    while (filled < n && this.queue.length > 0) {
      const buf = this.queue[0];
      const frames = (buf.length / 2) | 0;
      const take = Math.min(n - filled, frames - this.offset);
      for (let i = 0; i < take; i++) {
        left[filled + i] = buf[(this.offset + i) * 2];
        right[filled + i] = buf[(this.offset + i) * 2 + 1];
      }
      filled += take;
      this.offset += take;
      if (this.offset >= frames) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    this.played += filled;
    if (filled < n) this.underruns++;
    if (++this.quanta % 8 === 0) this.report();
    return filled;
  }

  /**
   * @param {Float32Array[][]} _inputs
   * @param {Float32Array[][]} outputs
   * @returns {boolean}
   */
  process(_inputs, outputs) {
    const out = outputs[0];
    const left = out[0];
    const right = out[1] || out[0];
    const n = left.length;
    const filled = this.header ? this.fromRing(left, right, n) : this.fromQueue(left, right, n);
    for (let i = filled; i < n; i++) {
      left[i] = 0;
      right[i] = 0;
    }
    return true;
  }
}

registerProcessor('kinema-output', KinemaOutput);
