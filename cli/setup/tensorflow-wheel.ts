/**
 * TensorFlow's pip wheels as a source of libtensorflow: the wheel (`tensorflow-cpu`, or the CUDA 12
 * `tensorflow` with its NVIDIA libraries) is fetched with pip and only the parts tfjs-node's binding
 * links against are unpacked: the C/C++ shared libraries and the headers.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SetupError } from '../../shared/errors.js';
import { runTool } from './run-tool.js';

/** The two libraries tfjs-node's binding links against, as the wheel names them (in `tensorflow/`). */
export const TF_LIBRARIES = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'] as const;

/** Wheel members `hpo setup` needs: libtensorflow, the headers and the wheel's metadata. */
const TF_MEMBERS = String.raw`^tensorflow/(include/|libtensorflow_cc\.so\.2$|libtensorflow_framework\.so\.2$)|^[^/]+\.dist-info/METADATA$`;
/** The shared libraries of an nvidia-*-cu12 wheel (nvidia/<library>/lib/*.so*). */
const NVIDIA_MEMBERS = String.raw`^nvidia/[^/]+/lib/[^/]+\.so(\.[0-9]+)*$`;

const UNZIP = `import json, re, sys, zipfile
wheel, dest, pattern = sys.argv[1:4]
rx = re.compile(pattern)
names = []
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if not info.is_dir() and rx.search(info.filename):
            z.extract(info, dest)
            names.append(info.filename)
print(json.dumps(names))
`;

const INSPECT = `import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = [n for n in z.namelist() if n.startswith('tensorflow/') and (n.count('/') == 1 or n.endswith('/c/c_api.h'))]
    meta = [n for n in z.namelist() if n.count('/') == 1 and n.endswith('.dist-info/METADATA')]
    text = z.read(meta[0]).decode('utf-8', 'replace') if meta else ''
print(json.dumps({'names': names, 'metadata': text}))
`;

/** The pip requirement of the TensorFlow wheel for a variant, e.g. `tensorflow-cpu==2.21.0`. */
export function wheelRequirement(gpu: boolean, version: string): string {
  return `${gpu ? 'tensorflow' : 'tensorflow-cpu'}==${version}`;
}

/** `pip download --no-deps` of the requirements into `dest`; returns the wheel files it added. */
export async function pipDownload(python: string, requirements: string[], dest: string): Promise<string[]> {
  mkdirSync(dest, { recursive: true });
  const before = new Set(readdirSync(dest));
  await runTool(
    python,
    ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--dest', dest, ...requirements],
    { what: `pip download ${requirements.join(' ')}` },
  );
  return readdirSync(dest)
    .filter((f) => f.endsWith('.whl') && !before.has(f))
    .map((f) => join(dest, f));
}

async function unzip(python: string, wheel: string, dest: string, pattern: string): Promise<string[]> {
  const { stdout } = await runTool(python, ['-c', UNZIP, wheel, dest, pattern], { what: `unpack ${wheel}` });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '[]') as string[];
}

export interface WheelInfo {
  /** Wheel name and version from its METADATA, e.g. `tensorflow-cpu` `2.21.0`. */
  name: string;
  version: string;
  /** Its NVIDIA library requirements (the `and-cuda` extra), e.g. `nvidia-cublas-cu12<13.0,>=12.5.3.2`. */
  cudaRequirements: string[];
}

/** A wheel's METADATA fields `hpo setup` uses. */
export function parseWheelMetadata(text: string): WheelInfo {
  const field = (key: string) => new RegExp(`^${key}: *(.+)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const cudaRequirements = [...text.matchAll(/^Requires-Dist: *([^;\n]+);([^\n]*)$/gm)]
    .filter((m) => /extra *== *["']and-cuda["']/.test(m[2]))
    .map((m) => m[1].replace(/\s+/g, ''));
  return { name: field('Name'), version: field('Version'), cudaRequirements };
}

/**
 * Reads a wheel's table of contents and METADATA without unpacking it; a wheel without libtensorflow
 * and its C API header is an error naming what is missing.
 */
export async function inspectTensorflowWheel(python: string, wheel: string): Promise<WheelInfo> {
  const { stdout } = await runTool(python, ['-c', INSPECT, wheel], { what: `read ${wheel}` });
  const toc = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { names: string[]; metadata: string };
  const missing = [...TF_LIBRARIES, 'include/tensorflow/c/c_api.h'].filter(
    (file) => !toc.names.includes(`tensorflow/${file}`),
  );
  if (missing.length > 0) {
    throw new SetupError(
      `${wheel} is not a TensorFlow wheel hpo can build from: no tensorflow/${missing.join(', tensorflow/')} in it (expected a tensorflow or tensorflow-cpu wheel for Linux x86_64 or aarch64)`,
    );
  }
  return parseWheelMetadata(toc.metadata);
}

/** Unpacks libtensorflow and its headers (checked by inspectTensorflowWheel) into `dest/tensorflow`. */
export async function unpackTensorflowWheel(python: string, wheel: string, dest: string): Promise<void> {
  await unzip(python, wheel, dest, TF_MEMBERS);
}

/** Unpacks the shared libraries of NVIDIA wheels into `dest/nvidia/<library>/lib`; returns their paths. */
export async function unpackNvidiaWheels(python: string, wheels: string[], dest: string): Promise<string[]> {
  const files: string[] = [];
  for (const wheel of wheels) {
    for (const name of await unzip(python, wheel, dest, NVIDIA_MEMBERS)) files.push(join(dest, name));
  }
  return files;
}
