import sjson from 'secure-json-parse';
import { FluxError } from '../core/index.js';

/**
 * A JSON request body, parsed the one way both the Fastify routes and the data plane parse it:
 * `__proto__` and `constructor.prototype` keys are refused (prototype poisoning), and a refusal
 * says what the parser found.
 */
export function parseJsonBody(text: string): unknown {
  if (text === '') throw new FluxError('MALFORMED_REQUEST', 'the body is empty; send a JSON document (Content-Type: application/json)');
  try {
    return sjson.parse(text, null, { protoAction: 'error', constructorAction: 'error' });
  } catch (e) {
    throw new FluxError('MALFORMED_REQUEST', `malformed JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}
