// Types of the device shims (index.js), for TypeScript apps:
//   import { attachDevice } from 'kinema/device-shims';
// Keep in step with index.js and profiles.js.
import type { Player, KeyName } from '../www/pkg/kinema_web.js';

/** The device profiles (`profiles.js`). */
export type ProfileName = 'browser' | 'xbox' | 'tizen' | 'webos' | 'hbbtv';

/** A device profile: key map, platform set-up and exit, memory budget, safe area. */
export interface Profile {
  name: ProfileName;
  /** Media memory for the core's byte budgets, MB (`null`: the defaults). */
  memoryMB: number | null;
  /** Inset in percent of the picture that TV overscan may hide. */
  safeArea: number;
  /** Whether the app releases decoders and buffers when hidden. */
  suspendWhenHidden: boolean;
  /** Whether standard-mapping gamepads are polled. */
  gamepad: boolean;
  /** A pointer remote (LG Magic Remote). */
  pointer?: boolean;
  /** The logical key of a `keydown`, or null. */
  keyOf(event: KeyboardEvent): KeyName | null;
  /** Asks the platform for the keys; returns what it registered. */
  setup(): (string | number)[];
  /** What Back at the top level does. */
  exit(): void;
}

export const PROFILES: Record<ProfileName, Profile>;

/** The profile for this engine: `forced` (e.g. `?device=tizen`) or what the page can see. */
export function detectProfile(forced?: string | null): Profile;

export interface AttachOptions {
  /** A profile name, or `auto` (default: `?device=` in the URL, else detection). */
  profile?: ProfileName | 'auto';
  /** The positioned element holding the video canvas; the controls are drawn in it. */
  container?: HTMLElement | null;
  /** `false` keeps the app's own UI (default true, when there is a container). */
  controls?: boolean;
  /** Overrides the profile's `suspendWhenHidden`. */
  suspendWhenHidden?: boolean;
}

export interface AttachedDevice {
  profile: ProfileName;
  /** What the platform registered (key names, Media Session actions, an HbbTV keyset mask). */
  registered: (string | number)[];
  /** The mounted controls (`controls.css` styles them), or null. */
  ui: { root: HTMLElement; destroy(): void } | null;
  /** Removes every listener and the controls. */
  detach(): void;
}

/** Adapts `player` to this device: keys, gamepad, Back, on-screen controls, lifecycle, memory. */
export function attachDevice(player: Player, options?: AttachOptions): AttachedDevice;
