import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli, startCli, stop } from '../helpers/cli.js';
import { freshHome } from '../helpers/server.js';

/** The server's auth policy and the key and audit commands, through the real CLI. */
describe('fluxops server auth policy, keys and audit (CLI)', () => {
  let home: string;
  beforeAll(() => {
    assertBuilt();
    home = freshHome('fluxops-auth-cli-');
  });
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  it('refuses --auth off on a reachable address unless --insecure, with a sentence', async () => {
    const r = await runCli(['server', '--home', home, '--host', '0.0.0.0', '--port', '0', '--auth', 'off']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--auth off on 0\.0\.0\.0 would let anyone.*--insecure/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const bad = await runCli(['server', '--home', home, '--port', '0', '--auth', 'maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--auth must be required or off/);
  });

  it('requires keys by default off loopback, shows the real bind address, and takes keys made by the local CLI', async () => {
    const made = await runCli(['keys', 'create', 'ops', '--role', 'admin', '--home', home, '--json']);
    expect(made.code).toBe(0);
    const admin = (JSON.parse(made.stdout) as { key: string; role: string }).key;
    const dev = (JSON.parse((await runCli(['keys', 'create', 'trainer', '--role', 'developer', '--expires', '7d', '--home', home, '--json'])).stdout) as { key: string; expiresAt: number }).key;
    const { child, match } = await startCli(['server', '--home', home, '--host', '0.0.0.0', '--port', '0'], /listening on (http:\/\/0\.0\.0\.0:(\d+))[^\n]*\nauth: (\w+)/);
    try {
      expect(match[3]).toBe('required');
      const url = `http://127.0.0.1:${match[2]}`;
      const create = (key?: string) =>
        fetch(`${url}/api/2.0/mlflow/experiments/create`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
          body: JSON.stringify({ name: `e-${key?.slice(4, 10) ?? 'anon'}` }),
        });
      expect((await create()).status).toBe(401);
      expect((await create(dev)).status).toBe(200);
      const health = await fetch(`${url}/api/health`);
      expect(health.status).toBe(200);
      // Keys and the audit log over the network need the admin key.
      const remote = ['--url', url, '--json'];
      expect((await runCli(['keys', 'list', ...remote, '--api-key', dev])).code).toBe(5);
      const listed = await runCli(['keys', 'list', ...remote, '--api-key', admin]);
      expect(listed.code).toBe(0);
      expect((JSON.parse(listed.stdout) as Array<{ name: string; role: string }>).map((k) => [k.name, k.role])).toEqual([
        ['ops', 'admin'],
        ['trainer', 'developer'],
      ]);
      const audit = await runCli(['audit', 'list', '--since', '1h', ...remote, '--api-key', admin]);
      expect(audit.code).toBe(0);
      const entries = JSON.parse(audit.stdout) as Array<{ keyName: string | null; route: string; status: number }>;
      expect(entries).toContainEqual(expect.objectContaining({ keyName: 'trainer', route: '/api/2.0/mlflow/experiments/create', status: 200 }));
      expect(entries).toContainEqual(expect.objectContaining({ keyName: null, route: '/api/2.0/mlflow/experiments/create', status: 401 }));
    } finally {
      expect(await stop(child)).toBe(0);
    }
    // The audit log is on the home's store, readable locally too.
    const local = await runCli(['audit', 'list', '--home', home]);
    expect(local.code).toBe(0);
    expect(local.stdout).toContain('/api/2.0/mlflow/experiments/create');
  });

  it('refuses bad key options with a sentence', async () => {
    const role = await runCli(['keys', 'create', 'x', '--role', 'root', '--home', home]);
    expect(role.code).toBe(2);
    expect(role.stderr).toMatch(/role must be one of viewer, developer, predict, approver, admin/);
    const exp = await runCli(['keys', 'create', 'x', '--expires', 'soon', '--home', home]);
    expect(exp.code).toBe(2);
    expect(exp.stderr).toMatch(/expires must be a duration such as 30d/);
    const since = await runCli(['audit', 'list', '--since', 'yesterday', '--home', home]);
    expect(since.code).toBe(2);
    expect(since.stderr).toMatch(/--since must be a duration/);
  });
});
