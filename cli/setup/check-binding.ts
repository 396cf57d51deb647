/** Checks an installed binding in a child process: hpo selects the backend, TensorFlow's version, one op. */
import { fileURLToPath } from 'node:url';
import { SetupError } from '../../shared/errors.js';
import { runTool } from './run-tool.js';

export interface BindingCheck {
  /** tfjs's backend name (always `tensorflow` for both tfjs-node packages). */
  backend: string;
  /** TensorFlow's version as libtensorflow reports it (TF_Version), e.g. `2.21.0`. */
  tfVersion: string;
  tfjsVersion: string;
  /** What tfjs-node says about GPU use (tensorflow-gpu only; null when it does not say). */
  gpuDevice: boolean | null;
}

const CHILD = fileURLToPath(new URL('./binding-check-child.js', import.meta.url));
const EXPECTED = [19, 22, 43, 50];

/** Loads the backend in a child process; throws a SetupError saying what failed. */
export async function checkBinding(backend: 'tensorflow' | 'tensorflow-gpu'): Promise<BindingCheck> {
  const { stdout } = await runTool(process.execPath, [CHILD, backend], {
    what: `check of backend ${backend} (loading it in a child process)`,
  });
  const line = stdout.trim().split('\n').pop() ?? '';
  let out: BindingCheck & { matMul: number[] };
  try {
    out = JSON.parse(line) as BindingCheck & { matMul: number[] };
  } catch (err) {
    throw new SetupError(`check of backend ${backend}: unexpected output ${JSON.stringify(line)}`, {
      cause: err,
    });
  }
  if (out.backend !== 'tensorflow' || !out.tfVersion) {
    throw new SetupError(
      `check of backend ${backend}: tfjs runs on '${out.backend}', TensorFlow version ${out.tfVersion}`,
    );
  }
  if (JSON.stringify(out.matMul) !== JSON.stringify(EXPECTED)) {
    throw new SetupError(
      `check of backend ${backend}: matMul gave ${JSON.stringify(out.matMul)}, expected ${JSON.stringify(EXPECTED)}`,
    );
  }
  return {
    backend: out.backend,
    tfVersion: out.tfVersion,
    tfjsVersion: out.tfjsVersion,
    gpuDevice: out.gpuDevice,
  };
}
