#!/usr/bin/env node
/** The `diffusion-ts` command-line tool: train, sample, eval, info. */
import { runCli } from './cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
