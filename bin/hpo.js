#!/usr/bin/env node
// Thin launcher: the CLI is compiled from orchestrator/cli/ into dist/ by `npm run build` (run by `prepare`).
import { main } from '../dist/orchestrator/cli/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
