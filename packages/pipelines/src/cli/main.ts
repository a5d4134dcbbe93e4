/** Dispatches `diffusion-ts <command>` and turns errors into messages and exit codes. */
import { UsageError, type Command } from './arguments.js';
import { evalCommand } from './eval.js';
import { infoCommand } from './info.js';
import { qualityCommand } from './quality.js';
import { sampleCommand } from './sample.js';
import { trainCommand } from './train.js';
import { trainClassifierCommand } from './train-classifier.js';

/** Every command, by name. */
export const COMMANDS: readonly Command[] = [trainCommand, sampleCommand, evalCommand, qualityCommand, trainClassifierCommand, infoCommand];

const USAGE = () => `Usage: diffusion-ts <command> [options]

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(16)} ${command.summary}`).join('\n')}

Run 'diffusion-ts <command> --help' for a command's options.`;

/** Runs the CLI with `argv` (without node and the script); returns the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE());
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    console.error(`diffusion-ts: unknown command '${name}'\n\n${USAGE()}`);
    return 1;
  }
  try {
    await command.run([...rest]);
    return 0;
  } catch (error) {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`diffusion-ts ${name}: ${(error as Error).message}${usage ? `\n\n${command.usage}` : ''}`);
    return usage ? 2 : 1;
  }
}
