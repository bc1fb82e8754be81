#!/usr/bin/env node
import { main } from './main.js';

const code = await main(process.argv.slice(2), process.env);
// Long-running commands keep the process alive (their servers hold it open); the others exit with their code.
if (!['serve', 'chat-service'].includes(process.argv[2] ?? '') || code !== 0) process.exit(code);
