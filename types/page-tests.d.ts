// What the page tests and benchmarks (tests/page/*.mjs, scripts/bench-*.mjs) put on `window` in
// the pages they drive, for the type-check of the callbacks they run there (page.evaluate,
// waitForFunction, addInitScript). Each test defines these shapes itself, ad hoc: `any`.
// `window.kinema` (the player the pages expose) is typed in types/browser.d.ts.
// tsconfig.node.json; type-check only.
interface Window {
  // harness.mjs: loadAndWatch's event log, installFrameIndex
  events: any[];
  watching: boolean;
  frameIndex: () => Promise<number>;
  // parity.test.mjs: the reference <video> and the comparison
  reference: (url: string) => Promise<{ duration: number; width: number; height: number }>;
  refVideo: HTMLVideoElement | undefined;
  refSeek: (t: number) => Promise<null>;
  compare: (turn?: number, flip?: boolean) => Promise<{ diff: number; kinemaMean: number; size: number[]; rect: number[]; frames: number[] }>;
  // streams.test.mjs: key requests seen by the request hook
  keyRequests: string[];
  // player.test.mjs: reads of AudioContext.outputLatency
  latencyReads: number;
  // door.test.mjs, npm-package.test.mjs: the test pages' own globals
  errors: string[];
  player: any;
  playerErrors: any[];
  cspViolations: string[];
  attachDevice: any;
  renderer: any;
  // devices.test.mjs: platform stubs and their call log, input helpers
  seen: any[];
  platformCalls: any[];
  setVisibility: (state: string) => void;
  padPress: (button: number) => Promise<void>;
  // streams*.test.mjs, video.test.mjs, subtitles.test.mjs: samplers and recorders
  sample: (ms: number, everyMs?: number) => Promise<any[]>;
  sampleFrames: (ms: number, everyMs?: number) => Promise<any[]>;
  gpuDevices: any[];
  seeked: boolean;
  lostWarnings: any[];
  cueLog: any[];
  trackErrors: any[];
  seekedCount: number;
  grab: () => Promise<any>;
  onFrame: any;
  // scripts/bench-streams.mjs: the reference players (hls.js, dash.js) and the recorder
  Hls: any;
  dashjs: any;
  ref: any;
  rec: any;
  benchRecord: (target: any, hooks: any) => any;
}

// devices.test.mjs stubs an HbbTV terminal: its OIPF application manager object's method.
interface HTMLObjectElement {
  getOwnerApplication?(document: Document): any;
}
