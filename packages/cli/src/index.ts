export { main, usage } from './main.js';
export {
  boundHeapGrowth,
  parseServeArgs,
  serveCommand,
  SERVE_HEAP_GROWING_PERCENT,
  SERVE_SETTINGS,
  envName,
} from './serve-command.js';
export { keysCommand } from './keys-command.js';
