// `--help` prints a command's usage line: every option the command's parser accepts must be in
// it (`start --help` once left out --seed and --port, `simulate --help` left out --volume).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { options as apiOptions } from '../api.ts';
import { extraCommands as api } from '../commands.ts';
import { options as boardOptions } from '../board.ts';
import { options as tokenOptions } from '../token.ts';
import { commands as ingest } from '../../ingest/src/cli.ts';
import { retranslateOptions, translateOptions } from '../../ingest/src/commands.ts';
import { EXIT, parseOptions, portFlag, UsageError, type OptionsSpec } from '../../platform/src/commands.ts';
import { commands as projections } from '../../projections/src/cli.ts';
import { options as reportOptions } from '../../projections/src/report.ts';
import { options as projectionsOptions } from '../../projections/src/service.ts';
import { commands as simulator } from '../../simulator/src/cli.ts';
import { options as simulateOptions } from '../../simulator/src/command.ts';
import { options as startOptions } from '../start.ts';

/** cli/main.ts's own usage lines, read as text: importing main.ts runs the CLI. */
const mainUsage = (name: string) =>
  new RegExp(`\\n {2}${name}: \\{[^}]*?usage: '([^']*)'`).exec(readFileSync(new URL('../main.ts', import.meta.url), 'utf8'))?.[1];

const cases: [string, string | undefined, OptionsSpec][] = [
  ['start', mainUsage('start'), startOptions],
  ['api', api.api!.usage, apiOptions],
  ['token create', api.token!.usage, tokenOptions.create],
  ['token list', api.token!.usage, tokenOptions.list],
  ['token revoke', api.token!.usage, tokenOptions.revoke],
  ['board list', api.board!.usage, boardOptions.list],
  ['board export', api.board!.usage, boardOptions.export],
  ['board import', api.board!.usage, boardOptions.import],
  ['translate', ingest.translate!.usage, translateOptions],
  ['retranslate', ingest.retranslate!.usage, retranslateOptions],
  ['projections', projections.projections!.usage, projectionsOptions],
  ['report', projections.report!.usage, reportOptions],
  ['simulate', simulator.simulate!.usage, simulateOptions],
];

describe('callboard <command> --help', () => {
  it.each(cases)('%s: the usage names every option the parser accepts', (_, usage, options) => {
    expect(usage).toBeDefined();
    for (const name of Object.keys(options)) expect(usage, `--${name}`).toMatch(new RegExp(`--${name}\\b`));
  });
});

describe('parseOptions', () => {
  const options = { events: { type: 'string' }, stdout: { type: 'boolean' } } as const;
  const usage = (argv: string[], rules = {}) => {
    try {
      parseOptions(argv, options, rules);
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      return (e as Error).message;
    }
    return 'no error';
  };

  it('turns each kind of command-line mistake into a one-line usage error', () => {
    expect(usage(['--evnts', 'x'])).toBe('unknown option --evnts, did you mean --events?');
    expect(usage(['--zzz'])).toBe('unknown option --zzz');
    expect(usage(['--events'])).toBe('--events needs a value');
    expect(usage(['--stdout=yes'])).toBe('--stdout takes no value');
    expect(usage([], { required: ['events'] })).toBe('--events is required');
    expect(usage(['--events', ''], { required: ['events'] })).toBe('--events is required');
    expect(usage([], { positionals: ['FILE'] })).toBe('missing argument FILE');
    expect(usage(['a', 'b'], { positionals: ['FILE'] })).toBe('unexpected argument "b"');
    expect(usage(['a'])).toBe('unexpected argument "a"');
    expect(usage(['--events', 'x', 'f'], { required: ['events'], positionals: ['FILE'] })).toBe('no error');
    expect([portFlag('port', undefined), portFlag('port', '0'), portFlag('port', '65535')]).toEqual([undefined, 0, 65535]);
    for (const bad of ['x', '65536', '1.5', '']) expect(() => portFlag('port', bad)).toThrow(UsageError);
    expect(EXIT).toMatchObject({ ok: 0, checkFailed: 1, usage: 2, unavailable: 69, config: 78 });
  });
});
