// Type-checks every test folder (vitest strips types without checking them).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const projects = ['test/tsconfig.json'];
for (const pkg of readdirSync('packages')) {
  const path = `packages/${pkg}/test/tsconfig.json`;
  if (existsSync(path)) projects.push(path);
}
let failed = false;
for (const project of projects) {
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project], { stdio: 'inherit' });
  } catch {
    failed = true;
    console.error(`type errors in ${project}`);
  }
}
process.exit(failed ? 1 : 0);
