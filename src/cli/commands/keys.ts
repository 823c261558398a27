import type { Command } from 'commander';
import { ROLES } from '../../auth/index.js';
import { withBackend, type GlobalOptions } from '../context.js';
import { formatTime, printResult, renderTable } from '../output.js';
import { collect } from './train.js';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API keys: roles, scopes, expiry (stored hashed; a key is shown once)');
  keys
    .command('create <name>')
    .description(`create a key; it is printed once and cannot be shown again. Roles: ${ROLES.join(', ')}`)
    .option('--role <role>', `viewer (read), developer (track, register, move unprotected aliases), predict, approver, admin (keys, audit)`, 'predict')
    .option('--scope <scope>', 'model:<name> or endpoint:<name> a predict key is limited to, or run:<run id> a developer key may write to (repeatable)', collect, [])
    .option('--expires <duration>', 'lifetime such as 30d, 12h or 90m (default: never)')
    .action(async (name: string, o: { role: string; scope: string[]; expires?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const { key, info } = await b.keys.create(name, { role: o.role, scopes: o.scope.length > 0 ? o.scope : undefined, expires: o.expires });
        printResult(g, { key, ...info }, () =>
          `${key}\n(key id ${info.keyId}, role ${info.role}${info.scopes.length > 0 ? `, scopes ${info.scopes.join(' ')}` : ''}${info.expiresAt ? `, expires ${formatTime(info.expiresAt)}` : ''}; store it now, it is not shown again)`,
        );
      });
    });
  keys
    .command('list')
    .description('list keys (ids, names, roles; never secrets)')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const list = await b.keys.list();
        printResult(g, list, () =>
          renderTable(
            ['key id', 'name', 'role', 'scopes', 'created', 'expires', 'last used', 'revoked'],
            list.map((k) => [
              k.keyId,
              k.name,
              k.role,
              k.scopes.join(' ') || '-',
              formatTime(k.createdAt),
              k.expiresAt ? formatTime(k.expiresAt) : '-',
              k.lastUsedAt ? formatTime(k.lastUsedAt) : '-',
              k.revokedAt ? formatTime(k.revokedAt) : '-',
            ]),
          ),
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
