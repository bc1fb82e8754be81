import { type SseEvent, SseParser } from '@tessera/verifier';
import { describe, expect, it } from 'vitest';

function parse(chunks: readonly string[]): { events: SseEvent[]; retries: number[] } {
  const events: SseEvent[] = [];
  const retries: number[] = [];
  const parser = new SseParser({ onEvent: (e) => events.push(e), onRetry: (ms) => retries.push(ms) });
  for (const c of chunks) parser.push(c);
  return { events, retries };
}

const STREAM =
  '\uFEFFretry: 1000\n\n' +
  ': a comment\n' +
  'id: 7\nevent: snapshot\ndata: {"seq":7,\ndata: "identities":[]}\n\n' +
  'event: heartbeat\r\ndata: {"seq":7}\r\n\r\n' +
  'id: 8\revent: identity.revoked\rdata:{"seq":8}\r\r' +
  'data\n\n' +
  'event: ignored-without-data\n\n' +
  'data: tail';

const EXPECTED: SseEvent[] = [
  { event: 'snapshot', data: '{"seq":7,\n"identities":[]}', lastEventId: '7' },
  { event: 'heartbeat', data: '{"seq":7}', lastEventId: '7' },
  { event: 'identity.revoked', data: '{"seq":8}', lastEventId: '8' },
  { event: 'message', data: '', lastEventId: '8' },
];

describe('SseParser (WHATWG event-stream interpretation)', () => {
  it('parses a stream with LF, CRLF and CR line ends, comments, multi-line data, ids and retry', () => {
    const { events, retries } = parse([STREAM]);
    expect(events).toEqual(EXPECTED);
    expect(retries).toEqual([1000]);
  });

  it('gives the same events whatever the chunking: every split point, and one character at a time', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      expect(parse([STREAM.slice(0, i), STREAM.slice(i)]).events).toEqual(EXPECTED);
    }
    expect(parse([...STREAM]).events).toEqual(EXPECTED);
  });

  it('treats a CR at the end of one chunk and a LF at the start of the next as one line end', () => {
    const { events } = parse(['data: a\r', '\ndata: b\r', '\n\r', '\n']);
    expect(events).toEqual([{ event: 'message', data: 'a\nb', lastEventId: '' }]);
  });

  it('does not dispatch an unfinished event', () => {
    expect(parse(['event: x\ndata: 1\n']).events).toEqual([]);
  });

  it('ignores an id containing NUL and a non-numeric retry', () => {
    const { events, retries } = parse(['id: 1\n\nid: a\u0000b\nretry: soon\ndata: x\n\n']);
    expect(events).toEqual([{ event: 'message', data: 'x', lastEventId: '1' }]);
    expect(retries).toEqual([]);
  });
});
