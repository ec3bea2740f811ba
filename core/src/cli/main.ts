/**
 * `lxkit <command> [options]`, and `lxc-<command>` when called through one of
 * the aliases in core/aliases/.
 *
 * Startup cost matters (`lxkit help` and `lxkit config -l` should cost little
 * more than starting Node), so only the command being run is loaded; the
 * others are listed by name and summary alone.
 */
import { basename } from 'node:path';
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { COMMANDS, type CommandEntry } from './commands.js';

/** `lxc-start -n c1` → `start -n c1`; `lxkit start -n c1` unchanged. */
function normalizeArgv(argv: string[]): { program: string; args: string[] } {
  const invoked = basename(argv[1] ?? 'lxkit');
  const args = argv.slice(2);
  if (invoked.startsWith('lxc-')) return { program: invoked, args: [invoked.slice(4), ...args] };
  return { program: 'lxkit', args };
}

function findCommand(args: string[]): CommandEntry | undefined {
  const first = args.find((a) => !a.startsWith('-'));
  return COMMANDS.find((c) => c.name === first);
}

async function main(): Promise<void> {
  const { program: invoked, args } = normalizeArgv(process.argv);
  const program = new Command('lxkit')
    .usage('<command> [options]')
    .description(
      'lxkit — Linux containers: LXC\'s tools as a small core plus plugins.\nRun "lxkit <command> --help" for a command\'s options.',
    )
    .version(VERSION, '-V, --version', 'print the lxkit version')
    .helpCommand('help [command]', 'show help for lxkit or for one command')
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions()
    .exitOverride();

  // `lxkit help start` must show start's options, so that command is loaded too.
  const target = args[0] === 'help' ? COMMANDS.find((c) => c.name === args[1]) : findCommand(args);
  // Running a command needs that command alone; help and unknown commands need them all listed.
  const listed = target && args[0] !== 'help' ? [target] : COMMANDS;
  for (const entry of listed) {
    const cmd = program.command(entry.name, { hidden: entry.hidden === true }).summary(entry.summary).description(entry.summary);
    // Log lines and messages name the program as the user called it.
    if (entry === target) (await entry.load()).define(cmd, invoked === 'lxkit' ? `lxkit-${entry.name}` : invoked);
  }

  if (args.length === 0) {
    program.outputHelp({ error: true });
    process.exitCode = 1;
    return;
  }
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" with exit code 0 under exitOverride.
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`lxkit: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 70; // EX_SOFTWARE: a bug, not bad input
});
