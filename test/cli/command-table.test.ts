import { describe, expect, it } from 'vitest';
import { commandNameOf } from '../../src/cli/command-table.js';

describe('commandNameOf (which command module the CLI loads)', () => {
  it.each<[string[], string | undefined]>([
    [['queue', 'list'], 'queue'],
    [['-c', 'gw.yaml', 'queue', 'list'], 'queue'],
    [['--config', 'gw.yaml', 'archive', 'search'], 'archive'],
    [['--config=gw.yaml', 'doctor'], 'doctor'],
    [['policy', 'replay', '--config', 'new.yaml'], 'policy'],
    [['--version'], undefined],
    [['--help'], undefined],
    [[], undefined],
    [['help', 'queue'], 'help'],
  ])('%j → %s', (args, want) => {
    expect(commandNameOf(args)).toBe(want);
  });
});
