import { Readable } from 'node:stream';
import type { ArtifactData } from './artifact-store.js';

/**
 * A byte stream over a streamed `put` source that counts what passes through, so object stores can
 * report the size of an upload without buffering it. The source's failure fails the stream.
 */
export function countedStream(data: Exclude<ArtifactData, Buffer | string>): { stream: Readable; bytes: () => number } {
  let bytes = 0;
  async function* count(): AsyncIterable<Uint8Array> {
    for await (const chunk of data as AsyncIterable<Uint8Array | string>) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytes += buf.length;
      yield buf;
    }
  }
  return { stream: Readable.from(count(), { objectMode: false }), bytes: () => bytes };
}

/** Reads a stream to its end into one buffer (for `read`, which is meant for small files). */
export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}
