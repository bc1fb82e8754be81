/**
 * Where the chat service reports trouble. Fields are plain facts (operation, status, thread id, token id), never
 * a token, key or message content. `console` fits, and so does a pino logger.
 */
export interface ChatLogger {
  info(message: string, fields?: Record<string, string | number | boolean>): void;
  warn(message: string, fields?: Record<string, string | number | boolean>): void;
  error(message: string, fields?: Record<string, string | number | boolean>): void;
}

/** A logger that drops everything (the default). */
export const silentChatLogger: ChatLogger = {
  info() {},
  warn() {},
  error() {},
};
