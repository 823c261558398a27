#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

const code = await main(process.argv);
// Long-running commands (server, quickstart) keep the event loop alive; others exit with their code.
if (code !== 0) process.exit(code);
else process.exitCode = 0;
