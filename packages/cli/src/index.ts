export { main, usage } from './main.js';
export {
  boundHeapGrowth,
  parseServeArgs,
  serveCommand,
  SERVE_HEAP_GROWING_PERCENT,
  SERVE_SETTINGS,
  envName,
  serveUsage,
} from './serve-command.js';
export { TOKEN_SERVICE_SETTINGS, tokenServiceEnvName } from './token-service-command.js';
export { code, range, settingsMarkdown, settingsUsage } from './settings-table.js';
export type { SettingKind, SettingSpec } from './settings.js';
export { keysCommand } from './keys-command.js';
export {
  chatStoreBeside,
  chatSwitch,
  chatSynchronousSetting,
  createChatMount,
  roomsOptionsFromHost,
  withChat,
  type ChatMount,
  type ChatMountOptions,
} from './chat-mount.js';
export {
  CHAT_SERVICE_SETTINGS,
  chatServiceCommand,
  chatServiceEnvName,
  parseChatServiceArgs,
} from './chat-service-command.js';
