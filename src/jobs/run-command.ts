import { spawn } from 'node:child_process';

export interface CommandInput {
  /** Run by `/bin/sh -c`, so pipes, redirections and `&&` work as in a terminal. */
  command: string;
  cwd?: string | undefined;
  /** Added to this process's environment. */
  env?: Record<string, string> | undefined;
  /** Stops the command: its whole process group gets SIGTERM, then SIGKILL after `killGraceMs`. */
  signal?: AbortSignal | undefined;
  /** Ends it the same way after this long. */
  timeoutMs?: number | undefined;
  killGraceMs?: number | undefined;
  /** Each chunk of output as it comes. */
  onOutput?: ((stream: 'stdout' | 'stderr', text: string) => void) | undefined;
}

export interface CommandResult {
  exitCode: number | null;
  /** The signal that ended it, if one did. */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** The last 4 KiB of its output (both streams), for error messages. */
  tail: string;
  durationMs: number;
}

const TAIL_BYTES = 4096;

/**
 * Runs a shell command in its own process group (`detached`), so stopping it reaches everything
 * it started (`python3 train.py` and the workers it forked), not just the shell. Never throws for
 * the command's own failure: the exit code, signal and output tail say what happened.
 */
export function runCommand(input: CommandInput): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', input.command], {
      cwd: input.cwd,
      env: { ...commandEnvironment(), ...input.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const keep = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      tail = (tail + text).slice(-TAIL_BYTES);
      input.onOutput?.(stream, text);
    };
    child.stdout.on('data', keep('stdout'));
    child.stderr.on('data', keep('stderr'));
    const stop = () => {
      if (child.pid === undefined || child.exitCode !== null) return;
      killGroup(child.pid, 'SIGTERM');
      killTimer ??= setTimeout(() => killGroup(child.pid!, 'SIGKILL'), input.killGraceMs ?? 5000);
    };
    const onAbort = () => {
      aborted = true;
      stop();
    };
    if (input.signal?.aborted === true) onAbort();
    input.signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      input.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            stop();
          }, input.timeoutMs)
        : undefined;
    // The command ends with its shell: what it left running in its group (holding the output
    // pipes open, so 'close' would never come) goes with it.
    child.on('exit', () => {
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      input.signal?.removeEventListener('abort', onAbort);
      // Whatever the shell left behind in its group goes too.
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      resolve({ exitCode: code, signal: sig, timedOut, aborted, tail, durationMs: Date.now() - started });
    });
  });
}

/** Settings of this process a command must not inherit: the store's credentials and this process's key. */
const WITHHELD = ['FLUXOPS_DATABASE_URL', 'FLUXOPS_API_KEY', 'FLUXOPS_TEST_PG_ADMIN_URL', 'MLFLOW_TRACKING_TOKEN'];

function commandEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of WITHHELD) delete env[k];
  return env;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** One sentence for a command that did not succeed. */
export function describeCommandFailure(r: CommandResult, timeoutMs?: number): string {
  const last = r.tail.trim().split('\n').slice(-3).join(' | ');
  const why = r.timedOut
    ? `timed out after ${Math.round((timeoutMs ?? r.durationMs) / 1000)} s`
    : r.aborted
      ? 'was stopped'
      : r.signal !== null
        ? `was killed by ${r.signal}`
        : `exited with code ${r.exitCode}`;
  return `the command ${why}${last !== '' ? `: ${last.slice(-500)}` : ''}`;
}
