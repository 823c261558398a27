/**
 * The baseline for the predict benchmark: a bare node:http server that does the least any JSON
 * prediction endpoint must do — read the body, parse it, check its shape, and answer with a JSON
 * response of the same size as FluxOps' (the template is passed in by the benchmark).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';

const template = JSON.parse(process.env.BARE_RESPONSE_TEMPLATE ?? '{}') as Record<string, unknown>;

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      body = undefined;
    }
    const ok = typeof body === 'object' && body !== null && Array.isArray((body as { inputs?: unknown }).inputs);
    const out = JSON.stringify(ok ? { ...template, request_id: randomUUID() } : { error_code: 'BAD_REQUEST', message: 'bad body' });
    res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
});

server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`bare server listening on http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
