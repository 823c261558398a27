import type { Command } from 'commander';
import { withBackend, type GlobalOptions } from '../context.js';
import { formatTime, printResult, renderTable } from '../output.js';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API keys for /api/predict (stored hashed; shown once)');
  keys
    .command('create <name>')
    .description('create a key; it is printed once and cannot be shown again')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const { key, info } = await b.keys.create(name);
        printResult(g, { key, ...info }, () => `${key}\n(key id ${info.keyId}; store it now, it is not shown again)`);
      });
    });
  keys
    .command('list')
    .description('list keys (ids and names, never secrets)')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const list = await b.keys.list();
        printResult(g, list, () =>
          renderTable(['key id', 'name', 'created', 'revoked'], list.map((k) => [k.keyId, k.name, formatTime(k.createdAt), k.revokedAt ? formatTime(k.revokedAt) : '-'])),
        );
      });
    });
  keys
    .command('revoke <keyId>')
    .description('revoke a key; requests with it are refused from then on')
    .action(async (keyId: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        await b.keys.revoke(keyId);
        printResult(g, { revoked: keyId }, () => `revoked ${keyId}`);
      });
    });
}
