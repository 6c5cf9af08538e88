#!/usr/bin/env node
// `npx doublure …`: runs the doublure binary for this machine with the same
// arguments and standard streams, forwards SIGINT, SIGTERM and SIGHUP to it,
// and exits as it did (with its status, or by the same signal).

import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { findBinary } from '../lib/binary.js';

let binary;
try {
  binary = findBinary();
} catch (error) {
  console.error(`doublure: ${error.message}`);
  process.exit(1);
}

const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit', windowsHide: true });
const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP'];
for (const signal of forwarded) {
  process.on(signal, () => {
    // The binary shuts down gracefully and decides the exit status; this
    // process waits for it rather than dying first and orphaning it.
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}

child.on('error', (error) => {
  console.error(`doublure: cannot run ${binary}: ${error.message}`);
  process.exit(1);
});

child.on('exit', (code, signal) => {
  if (signal) {
    // Die the same way, so a shell or CI runner sees the signal.
    for (const s of forwarded) process.removeAllListeners(s);
    process.kill(process.pid, signal);
    // A signal Node itself handles (SIGUSR1 starts its inspector) does not
    // end it: exit with the shell's status for that signal instead.
    setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 100);
    return;
  }
  process.exit(code ?? 1);
});
