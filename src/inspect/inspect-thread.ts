/**
 * Worker-thread entry: inspects one message at a time off the main thread,
 * so MIME parsing, text extraction and the detectors never hold up SMTP
 * sessions or deliveries. The main thread streams the decrypted message in
 * (chunks, acknowledged for flow control) or, when it is small, sends it in
 * one transfer; the answer is the extraction
 * summary and the verdict — never the extracted text.
 */
import { PassThrough } from 'node:stream';
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { extractedFacts, extractMessage, type ExtractedFacts } from './extract.js';
import type { CustomIdentifier } from './detect/personal.js';
import { inspectExtracted, inspectionProfile, subjectSensitive, type MessageVerdict } from './verdict.js';

export type ToThread =
  | { readonly type: 'start'; readonly custom: readonly (CustomIdentifier & { identifier?: boolean })[] }
  | { readonly type: 'chunk'; readonly data: Uint8Array }
  /** A small message in one transfer: start, its only chunk and end together (no acknowledgement). */
  | { readonly type: 'whole'; readonly custom: readonly (CustomIdentifier & { identifier?: boolean })[]; readonly data: Uint8Array }
  | { readonly type: 'end' }
  | { readonly type: 'abort' };

export interface InspectionResult {
  readonly extracted: ExtractedFacts;
  readonly verdict: MessageVerdict;
  readonly subjectSensitive: boolean;
}

/**
 * After each message the thread says how much memory its isolate holds
 * (heap committed plus external buffers, MiB), so the pool can replace a
 * thread that grew: V8 returns a worker's memory to the system only when
 * the isolate is disposed.
 */
export type FromThread =
  | { readonly type: 'ack' }
  | { readonly type: 'result'; readonly result: InspectionResult; readonly heapMb: number }
  | { readonly type: 'error'; readonly message: string; readonly heapMb: number };

/** Memory this isolate holds now (MiB): the committed heap and the external (Buffer) memory. */
export function isolateMemoryMb(): number {
  const h = getHeapStatistics();
  return (h.total_heap_size + h.external_memory) / (1024 * 1024);
}

const port = parentPort;
if (port) {
  let input: PassThrough | undefined;
  const start = (custom: readonly (CustomIdentifier & { identifier?: boolean })[]): PassThrough => {
    const stream = new PassThrough();
    const profile = inspectionProfile(custom);
    extractMessage(stream).then(
      (extracted) => {
        const verdict = inspectExtracted(extracted, profile);
        const reply: FromThread = { type: 'result', result: { extracted: extractedFacts(extracted), verdict, subjectSensitive: subjectSensitive(extracted.subject, profile) }, heapMb: isolateMemoryMb() };
        port.postMessage(reply);
      },
      (err: unknown) => port.postMessage({ type: 'error', message: (err as Error).message, heapMb: isolateMemoryMb() } satisfies FromThread),
    );
    return stream;
  };
  port.on('message', (msg: ToThread) => {
    switch (msg.type) {
      case 'start':
        input = start(msg.custom);
        return;
      case 'whole':
        input = start(msg.custom);
        input.end(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength));
        return;
      case 'chunk':
        if (input && !input.write(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength))) {
          const stream = input;
          stream.once('drain', () => port.postMessage({ type: 'ack' } satisfies FromThread));
        } else {
          port.postMessage({ type: 'ack' } satisfies FromThread);
        }
        return;
      case 'end':
        input?.end();
        return;
      case 'abort':
        input?.destroy();
        input = undefined;
        return;
    }
  });
}
