/**
 * Which failures of a spool write are storage failures (retried whole) and
 * which keep the identity their source or stage gave them (write-error.ts):
 * only the file system's — the writer's own calls, or an errno code.
 */
import { describe, expect, it } from 'vitest';
import { isSealgateError, SealgateError } from '../../src/errors.js';
import { errnoCode, writeError } from '../../src/spool/write-error.js';

const errno = (code: string): Error => Object.assign(new Error(`${code}: failed`), { code, errno: -1, syscall: 'write' });
const clientGone = new SealgateError('SG_CLIENT_GONE');
const timeout = new SealgateError('SG_DATA_TIMEOUT');
const prematureClose = Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
// what openpgp raised for a damaged signing key at the end of the stream
const domException = new DOMException('Invalid keyData', 'DataError');
const typeError = new TypeError('Cannot read properties of undefined');

describe('writeError', () => {
  it.each<[string, unknown, boolean, string]>([
    ['ENOSPC from the writer', errno('ENOSPC'), true, 'SG_STORAGE_FULL'],
    ['EDQUOT from the writer', errno('EDQUOT'), true, 'SG_STORAGE_FULL'],
    ['EIO from the writer', errno('EIO'), true, 'SG_STORAGE_FAILED'],
    ['a writer failure without an errno code', new Error('file closed'), true, 'SG_STORAGE_FAILED'],
    ['ENOSPC from a stage', errno('ENOSPC'), false, 'SG_STORAGE_FULL'],
    ['EIO from a source reading a file', errno('EIO'), false, 'SG_STORAGE_FAILED'],
    ['ECONNRESET from a source', errno('ECONNRESET'), false, 'SG_STORAGE_FAILED'],
    ['a SealgateError from the source', clientGone, false, 'SG_CLIENT_GONE'],
    ['a SealgateError from a stage', timeout, false, 'SG_DATA_TIMEOUT'],
    ['a SealgateError, even from the writer', clientGone, true, 'SG_CLIENT_GONE'],
  ])('%s → %s', (_name, err, fromWriter, code) => {
    const out = writeError(err, fromWriter);
    expect(isSealgateError(out) && out.code).toBe(code);
    if (err instanceof SealgateError) expect(out).toBe(err);
    else expect((out as SealgateError).cause).toBe(err);
  });

  it.each<[string, unknown]>([
    ['a DOMException (code 0) from a transform', domException],
    ['a TypeError thrown in a stage', typeError],
    ["Node's own ERR_ code", prematureClose],
    ['a thrown non-Error', 'boom'],
  ])('%s keeps its identity', (_name, err) => {
    expect(writeError(err, false)).toBe(err);
  });
});

describe('errnoCode', () => {
  it.each<[unknown, string | undefined]>([
    [errno('ENOSPC'), 'ENOSPC'],
    [errno('EIO'), 'EIO'],
    [prematureClose, undefined],
    [Object.assign(new Error('x'), { code: 'EAI_AGAIN' }), undefined],
    [domException, undefined],
    [{ code: 5 }, undefined],
    [undefined, undefined],
    [null, undefined],
  ])('%o → %s', (err, code) => {
    expect(errnoCode(err)).toBe(code);
  });
});
