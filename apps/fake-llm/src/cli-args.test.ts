import { describe, expect, it } from 'vitest';
import { CliError, parseCliArgs } from './cli-args.js';

describe('parseCliArgs', () => {
  it('defaults to 127.0.0.1:8080, or $PORT', () => {
    expect(parseCliArgs([])).toEqual({
      help: false,
      port: 8080,
      host: '127.0.0.1',
      options: {},
      oauthKeyFiles: [],
    });
    expect(parseCliArgs([], { PORT: '9000' }).port).toBe(9000);
    expect(parseCliArgs(['--port', '0'], { PORT: '9000' }).port).toBe(0);
  });

  it('collects --oauth-key files for main to read, and checks --token-ttl-s', () => {
    const config = parseCliArgs(['--oauth-key', 'a.json', '--oauth-key', 'b.pem', '--token-ttl-s', '60']);
    expect(config.oauthKeyFiles).toEqual(['a.json', 'b.pem']);
    expect(config.options.tokenTtlS).toBe(60);
    expect(() => parseCliArgs(['--token-ttl-s', '0'])).toThrow(/--token-ttl-s must be a number of seconds/);
  });

  it('maps every flag to its option', () => {
    const config = parseCliArgs([
      '--host=0.0.0.0',
      '--latency-ms',
      '5',
      '--jitter-ms',
      '2.5',
      '--chunk-delay-ms',
      '1',
      '--completion-tokens',
      '3',
      '--embedding-dimensions',
      '4',
      '--fail-rate',
      '0.1',
      '--fail-status',
      '503',
      '--hang-rate',
      '0.2',
      '--cut-rate',
      '0.3',
      '--rpm',
      '/a=10',
      '--rpm',
      '/b=x=2',
      '--quota-window-ms',
      '1000',
      '--model',
      'm1',
      '--model',
      'm2',
    ]);
    expect(config.host).toBe('0.0.0.0');
    expect(config.options).toEqual({
      latencyMs: 5,
      jitterMs: 2.5,
      chunkDelayMs: 1,
      completionTokens: 3,
      embeddingDimensions: 4,
      failRate: 0.1,
      failStatus: 503,
      hangRate: 0.2,
      cutRate: 0.3,
      quotas: [
        { prefix: '/a', rpm: 10 },
        { prefix: '/b=x', rpm: 2 },
      ],
      quotaWindowMs: 1000,
      models: ['m1', 'm2'],
    });
  });

  it.each([
    [['--bogus'], /--bogus/],
    [['extra'], /Unexpected argument 'extra'/],
    [['--latency-ms', '-1'], /--latency-ms got "-1": no value may start with "-"/],
    [['--latency-ms=-1'], /--latency-ms must be 0\.\.\d+, got "-1"/],
    [['--latency-ms', 'soon'], /expects a number/],
    [['--fail-rate', '1.5'], /--fail-rate must be between 0 and 1/],
    [['--hang-rate', '-0.1'], /--hang-rate/],
    [['--fail-status', '200'], /--fail-status/],
    [['--completion-tokens', '2.5'], /--completion-tokens/],
    [['--rpm', 'nope'], /--rpm expects PREFIX=N/],
    [['--rpm', '/a=0'], /--rpm/],
    [['--rpm', 'a=3'], /--rpm/],
    [['--port', '70000'], /--port/],
    [['--port'], /argument missing/],
    [['--quota-window-ms', '0'], /--quota-window-ms/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(CliError);
    expect(() => parseCliArgs(argv)).toThrow(message);
  });

  it('rejects a bad $PORT', () => {
    expect(() => parseCliArgs([], { PORT: 'http' })).toThrow(/PORT/);
  });
});
