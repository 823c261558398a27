// Writes monitoring/prometheus/fluxops-rules.yml (Prometheus recording and alerting rules) and
// monitoring/grafana/fluxops-dashboard.json (the Grafana dashboard) from the built code (run
// `npm run build` first). They are committed so that a team can take them without running
// anything; CI regenerates them and fails when a committed file differs. The promtool tests
// beside the rules (fluxops-rules.test.yml) are written by hand.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The export folder alone: it is pure, so generating loads no store or driver of the monitoring context.
const { monitoringFiles } = await import(path.join(root, 'dist/monitoring/export/index.js'));
for (const { path: rel, text } of monitoringFiles()) {
  const out = path.join(root, rel);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, text);
  console.log(`wrote ${rel}`);
}
