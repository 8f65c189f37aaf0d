#!/usr/bin/env node
// The `fleetgate` command npm links (npx fleetgate, node_modules/.bin/fleetgate). It is committed,
// not built, so npm finds it on the first install; it runs the compiled gateway.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('fleetgate: not built yet; run `npm run build` in the repository first\n');
  process.exit(1);
}
await import(main.href);
