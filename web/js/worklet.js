// Kinema's audio output: an AudioWorkletProcessor that plays interleaved stereo f32 queued by
// the host and counts the frames it really played (silence from an empty queue is not counted).
//
// Two transports, chosen by the host:
// - SharedArrayBuffer ring (when crossOriginIsolated): no messages, no allocation here.
//   header (Int32Array): see H_* below; data (Float32Array) holds CAP frames × 2 channels.
//   Indices are frame counters that wrap as int32; only the host moves WRITE, only this
//   processor moves READ. A flush: the host stores FLUSH_AT = its write index, then
//   FLUSH_EPOCH = epoch; here READ jumps to FLUSH_AT, the epoch is taken, PLAYED restarts at 0.
// - Messages (otherwise): {type:'queue'|'flush'|'run'}; progress posted every 8 quanta.
const H_WRITE = 0, H_READ = 1, H_EPOCH = 2, H_PLAYED = 3, H_RUN = 4, H_UNDERRUNS = 5,
  H_FLUSH_EPOCH = 6, H_FLUSH_AT = 7;

class KinemaOutput extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = (options && options.processorOptions) || {};
    this.epoch = 0;
    this.played = 0;
    this.underruns = 0;
    this.running = false;
    this.quanta = 0;
    if (o.header && o.data) {
      this.header = new Int32Array(o.header);
      this.data = new Float32Array(o.data);
      this.cap = (this.data.length / 2) | 0;
    } else {
      this.queue = [];
      this.offset = 0;
      this.port.onmessage = (e) => this.onMessage(e.data);
    }
  }

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

  process(_inputs, outputs) {
    const out = outputs[0];
    const left = out[0];
    const right = out[1] || out[0];
    const n = left.length;
    let filled = 0;
    if (this.header) {
      const h = this.header;
      const flushEpoch = Atomics.load(h, H_FLUSH_EPOCH);
      if (flushEpoch !== this.epoch) {
        const at = Atomics.load(h, H_FLUSH_AT);
        Atomics.store(h, H_READ, at);
        this.epoch = flushEpoch;
        this.played = 0;
        Atomics.store(h, H_PLAYED, 0);
        Atomics.store(h, H_EPOCH, flushEpoch);
      }
      if (Atomics.load(h, H_RUN) === 1) {
        let read = Atomics.load(h, H_READ);
        const avail = (Atomics.load(h, H_WRITE) - read) | 0;
        filled = Math.min(n, Math.max(0, avail));
        for (let i = 0; i < filled; i++) {
          const at = ((read + i) >>> 0) % this.cap;
          left[i] = this.data[at * 2];
          right[i] = this.data[at * 2 + 1];
        }
        Atomics.store(h, H_READ, (read + filled) | 0);
        this.played += filled;
        Atomics.store(h, H_PLAYED, this.played);
        if (filled < n) {
          this.underruns++;
          Atomics.store(h, H_UNDERRUNS, this.underruns);
        }
      }
    } else if (this.running) {
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
    }
    for (let i = filled; i < n; i++) {
      left[i] = 0;
      right[i] = 0;
    }
    return true;
  }
}

registerProcessor('kinema-output', KinemaOutput);
