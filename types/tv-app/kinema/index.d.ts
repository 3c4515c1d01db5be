// The TV app's view of the device shims: scripts/package-devices.sh copies device-shims/index.js
// (with profiles.js, ui/) to dist/<device>/kinema/, beside app.js. tsconfig.json's rootDirs lays
// this folder over device-shims/app/ so that app.js's `./kinema/index.js` is checked against the
// shims' real declarations. Type-check only.
export * from '../../../device-shims/index.js';
