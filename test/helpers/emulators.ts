import { spawn } from 'node:child_process';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterFile, tmpDir } from './backends.js';
import { ROOT } from './cli.js';

/** One object-store emulator started for a test file, with the environment a FluxOps store reads. */
export interface Emulator {
  /** What the tests print: which emulator, where. */
  label: string;
  /** The bucket or container created for the tests. */
  bucket: string;
  /** The variables the store is opened with (endpoint and credentials). */
  env: NodeJS.ProcessEnv;
  /** Conformance cases this emulator gets wrong, by title, with the reason (printed when skipped). */
  knownGaps?: Record<string, string>;
}

/**
 * Starts a Node script as a child process and resolves with the port it prints once listening.
 * A child keeps the emulator's own process-wide handlers (s3rver's logger catches uncaught
 * exceptions) out of the test worker. It is stopped after the test file.
 */
async function startChild(name: string, nodeArgs: string[], args: string[], ready: RegExp, timeoutMs = 60_000): Promise<number> {
  const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: tmpDir(`fluxops-${name}-cwd-`), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${timeoutMs / 1000} s:\n${output}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = ready.exec(output);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${name} could not be started: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${signal ?? `code ${code}`}) before listening:\n${output}`));
    });
  });
  // Keep draining its output so a chatty emulator never blocks on a full pipe.
  child.stdout.resume();
  child.stderr.resume();
  afterFile(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  return port;
}

/**
 * s3rver (S3-compatible, on a temp folder) on a free port, with one bucket. s3rver 3.7 has two
 * bugs the conformance suite finds, declared as its known gaps: a delimited listing leaves out a
 * folder that holds only folders (it prunes its walk below a common prefix before it has seen an
 * object there), and it writes objects in place, so racing writes to one key interleave.
 */
export async function startS3rver(): Promise<Emulator> {
  const bucket = 'fluxops-test';
  const script = path.join(ROOT, 'node_modules', 's3rver', 'bin', 's3rver.js');
  // s3rver encrypts its list continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
  const port = await startChild('s3rver', ['--openssl-legacy-provider', script], ['--directory', tmpDir('fluxops-s3rver-'), '--address', '127.0.0.1', '--port', '0', '--silent', '--no-vhost-buckets', '--configure-bucket', bucket], /listening on [\d.]+:(\d+)/);
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    label: `S3 (s3rver at ${endpoint}, bucket ${bucket})`,
    knownGaps: {
      'lists a folder that holds only folders': 's3rver 3.7 omits such folders from delimited listings (an emulator bug; AWS S3 lists them)',
      'keeps one whole value when concurrent puts race on one key': 's3rver 3.7 writes objects in place, so racing writes interleave (AWS S3 replaces objects whole)',
    },
    bucket,
    // s3rver's fixed credentials.
    env: { FLUXOPS_S3_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' },
  };
}

/** Azurite's well-known development account (documented by Microsoft for the emulator). */
const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Azurite's blob service in memory on a free port, with one container. */
export async function startAzurite(): Promise<Emulator> {
  const container = 'fluxops-test';
  const script = path.join(ROOT, 'node_modules', 'azurite', 'dist', 'src', 'blob', 'main.js');
  const port = await startChild(
    'azurite',
    [script],
    // In memory (it refuses --location then; its cwd is a temp folder). The SDK speaks a newer service
    // version than Azurite may know; telemetry would try the network.
    ['--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence', '--skipApiVersionCheck', '--loose', '--silent', '--disableTelemetry'],
    /listens on https?:\/\/[\d.]+:(\d+)/,
  );
  const endpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const connectionString = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${endpoint};`;
  await BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container).createIfNotExists();
  return { label: `Azure Blob (Azurite at ${endpoint}, container ${container})`, bucket: container, env: { AZURE_STORAGE_CONNECTION_STRING: connectionString } };
}

/**
 * Starts an emulator for a test file. Outside CI a failure to start is printed and the file's
 * tests are skipped; in CI (CI=true) it fails the run, so a backend is never silently untested.
 */
export async function emulatorOrSkip(start: () => Promise<Emulator>, name: string): Promise<Emulator | undefined> {
  try {
    return await start();
  } catch (e) {
    if (process.env.CI) throw e;
    console.log(`${name} did not start (${e instanceof Error ? e.message : String(e)}): its artifact store tests are skipped`);
    return undefined;
  }
}

/** A local port nothing listens on (taken from the OS, then released), for "cannot be reached" cases. */
export async function closedPort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
