// The metrics settings are validated at startup, each error naming its setting.
import { describe, expect, it } from 'vitest';
import { resolveServerOptions } from '../../src/config/server-options.js';
import { startTestServer } from '../e2e/helpers.js';

describe('metrics settings', () => {
  it('are off by default; a port turns the listener on (127.0.0.1 unless --metrics-host)', () => {
    expect(resolveServerOptions({}).metricsListener).toBeUndefined();
    expect(resolveServerOptions({}).metricsApi).toBe(false);
    expect(resolveServerOptions({ metricsPort: 9464 }).metricsListener).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(resolveServerOptions({ metricsPort: 0, metricsHost: '0.0.0.0' }).metricsListener).toEqual({
      host: '0.0.0.0',
      port: 0,
    });
  });

  it.each([
    [{ metricsHost: '10.0.0.1' }, 'metrics-host', 'needs --metrics-port'],
    [{ metricsPort: 70000 }, 'metrics-port', 'must be an integer in [0, 65535]'],
    [{ port: 9000, metricsPort: 9000 }, 'metrics-port', 'must differ from --port'],
    [{ metricsPort: 1, metricsHost: 'a b' }, 'metrics-host', 'must be a host name or IP address'],
  ])('%o is refused naming --%s', (options, setting, message) => {
    expect(() => resolveServerOptions(options)).toThrow(
      expect.objectContaining({
        code: 'ERR_CONFIG_INVALID',
        target: setting,
        message: expect.stringContaining(message),
      }),
    );
  });

  it('a metrics port already in use fails the start naming --metrics-port', async () => {
    const first = await startTestServer({ metricsPort: 0 });
    try {
      const taken = Number(new URL(first.server.metricsUrl ?? '').port);
      await expect(startTestServer({ metricsPort: taken })).rejects.toMatchObject({
        code: 'ERR_CONFIG_INVALID',
        target: 'metrics-port',
      });
    } finally {
      await first.close();
    }
  });
});
