// The parser lives in @tessera/core (I/O-free, shared with @tessera/client's event subscriber).
export { SseParser, type SseEvent, type SseParserHandlers } from '@tessera/core';
