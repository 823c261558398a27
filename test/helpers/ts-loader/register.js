// `node --import <this file>`: installs the TypeScript hooks (see hooks.js) for the process or worker.
import { register } from 'node:module';

register('./hooks.js', import.meta.url);
