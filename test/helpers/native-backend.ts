/**
 * Whether tfjs's native backend (`@tensorflow/tfjs-node` with a built N-API binding) is installed here, for
 * tests that run on backend `tensorflow`. `npm test`'s setup builds it where it can (`hpo setup tensorflow`);
 * where it could not, these tests skip and say why. Checked without loading the binding into the mocha
 * process (loading it registers tfjs's `tensorflow` backend for every later test).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The reason the native backend is missing, or undefined when its package and binding are present. */
export function nativeBackendMissing(): string | undefined {
  let pkgJson: string;
  try {
    pkgJson = require.resolve('@tensorflow/tfjs-node/package.json');
  } catch {
    return '@tensorflow/tfjs-node is not installed (run `npx hpo setup tensorflow`)';
  }
  const binding = join(dirname(pkgJson), 'lib', 'napi-v8', 'tfjs_binding.node');
  if (!existsSync(binding)) return `${binding} is not built (run \`npx hpo setup tensorflow\`)`;
  return undefined;
}

/** In a mocha `before`/`it`: skips the suite or test, saying why, when the native backend is missing. */
export function skipUnlessNativeBackend(ctx: Mocha.Context): void {
  const missing = nativeBackendMissing();
  if (missing === undefined) return;
  console.warn(`  (skipped: backend tensorflow unavailable: ${missing})`);
  ctx.skip();
}
