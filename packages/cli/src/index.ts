export { main, usage } from './main.js';
export { parseServeArgs, serveCommand, SERVE_SETTINGS, envName } from './serve-command.js';
export { keysCommand } from './keys-command.js';
