/** Certificates for tests, made with openssl (ECDSA P-256, valid 2 days): a CA and what it signs. */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** ca.pem and ca.key in `dir`. */
export function makeTestCa(dir: string): void {
  openssl(dir, [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=hpo test CA',
  ]);
}

/**
 * `<name>.pem` and `<name>.key` in `dir`, signed by its CA, with these X.509 extensions (extfile lines,
 * e.g. `subjectAltName=IP:127.0.0.1` or `extendedKeyUsage=clientAuth`).
 */
export function signTestCert(dir: string, name: string, extensions: string[]): void {
  const ext = `${name}.ext`;
  writeFileSync(join(dir, ext), extensions.join('\n') + '\n');
  openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  const ca = ['-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', ext];
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-out', `${name}.pem`, ...ca]);
  rmSync(join(dir, `${name}.csr`));
}
