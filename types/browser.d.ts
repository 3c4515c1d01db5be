// Ambient declarations for the type-check of the browser-side JavaScript (tsconfig.json): the
// globals that TypeScript's DOM lib does not have. Type-check only: nothing here is published
// (package.json "files") or loaded by a page.

// --- TV platforms, as device-shims/profiles.js uses them (only what it calls) -------------

/** Samsung Tizen TV web API (`tizen.tvinputdevice`, `tizen.application`). */
interface TizenApi {
  tvinputdevice?: {
    getSupportedKeys(): { name: string; code: number }[];
    registerKey(keyName: string): void;
  };
  application?: {
    getCurrentApplication(): { exit(): void };
  };
}

/** LG webOS TV (webOSTV.js) and its legacy `PalmSystem`. */
interface WebOSApi {
  platformBack?(): void;
}

/** OIPF DAE Application (what `getOwnerApplication` returns on an HbbTV terminal). */
interface OipfApplication {
  privateData: { keyset: { setValue(mask: number): void } };
  show(): void;
  destroyApplication(): void;
}

/** The OIPF `application/oipfApplicationManager` embedded object. */
interface OipfApplicationManager extends HTMLObjectElement {
  getOwnerApplication?(document: Document): OipfApplication | null;
}

interface Window {
  tizen?: TizenApi;
  webOS?: WebOSApi;
  PalmSystem?: unknown;
  /** HbbTV/OIPF `KeyEvent.VK_*` constants (terminals define them). */
  KeyEvent?: Record<string, number>;
  oipfObjectFactory?: unknown;

  // --- What the demo pages and the TV app expose to the page tests ------------------------
  /** www/main.js, www/csp.js, device-shims/app/app.js. */
  kinema?: {
    player: import('../www/pkg/kinema_web.js').Player;
    renderer?: 'webgpu' | 'webgl2' | 'webgl1' | '2d';
    device?: import('../device-shims/index.js').AttachedDevice;
  };
  /** www/csp.js: Content-Security-Policy violations the page saw. */
  violations?: string[];
  /** www/csp.js: the player's `warning` details. */
  warnings?: import('../www/pkg/kinema_web.js').PlayerWarning[];
}

// --- AudioWorkletGlobalScope (web/js/worklet.js runs there; TypeScript has no lib for it) ----

/** https://webaudio.github.io/web-audio-api/#audioworkletprocessor */
declare class AudioWorkletProcessor {
  constructor(options?: AudioWorkletNodeOptions);
  readonly port: MessagePort;
}

/** https://webaudio.github.io/web-audio-api/#dom-audioworkletglobalscope-registerprocessor */
declare function registerProcessor(
  name: string,
  processorCtor: new (options?: AudioWorkletNodeOptions) => AudioWorkletProcessor,
): void;
