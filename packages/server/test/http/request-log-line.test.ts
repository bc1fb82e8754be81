import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createServerLogger, requestLineWriter, type RequestLogFields } from '../../src/http/server-logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

const withoutTime = (line: string) => line.replace(/,"time":"[^"]+"/, ',"time":"T"');

const cases: RequestLogFields[] = [
  {
    op: 'identity.issueToken',
    identityId: '8:acs:5558b0c6-58f6-46c5-92ab-344fe1790897_01a23c3c-3b30-7fc3-9389-681f6dd102c9',
    status: 200,
    latencyMs: 1.234,
    requestId: 'bench-0',
    principal: 'key:primary',
  },
  { op: 'GET /healthz', identityId: undefined, status: 200, latencyMs: 0, requestId: 'r', principal: undefined },
  {
    op: 'POST unmatched',
    identityId: undefined,
    status: 404,
    latencyMs: 12.5,
    requestId: '0b4f…',
    principal: 'bearer:https://login.example/"quoted"\\back\nline\u2028ß#sub',
  },
];

it('the fast per-request line is byte for byte what pino writes for the same fields (time aside)', () => {
  const fast = capture();
  const slow = capture();
  const write = requestLineWriter(createServerLogger({ level: 'info', destination: fast.stream }).logger);
  const logger = createServerLogger({ level: 'info', destination: slow.stream }).logger;
  for (const fields of cases) {
    write(fields);
    logger.info({ ...fields }, 'request');
  }
  expect(fast.lines.map(withoutTime)).toStrictEqual(slow.lines.map(withoutTime));
  for (const line of fast.lines) expect(JSON.parse(line)).toMatchObject({ level: 30, msg: 'request' });
  expect(fast.lines).toHaveLength(cases.length);
});
