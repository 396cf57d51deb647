#!/usr/bin/env node
// Thin launcher: the CLI is compiled from cli/ into dist/ by `npm run build` (run by `prepare`).
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
