/**
 * The program-wide `-c/--config` after a command's name.
 *
 * The program parses its options positionally (enablePositionalOptions in
 * main.ts): `-c`/`--config` given before the command is the program's, and
 * everything after the command's name belongs to that command. That lets a
 * command give `--config` a meaning of its own — `policy replay --config
 * NEW.yaml` is the proposed config, while `sealgate -c gw.yaml policy
 * replay` names the gateway's — without scanning argv by hand. So that
 * `sealgate queue list -c gw.yaml` keeps working as before, every command
 * that does not define `-c`/`--config` itself gets a hidden `-c, --config`
 * of its own; configPathOf (optsWithGlobals) sees either.
 */
import { type Command, Option } from 'commander';

/** Adds the hidden `-c, --config <path>` to every command under `program` that has neither flag of its own. Call once every command is registered. */
export function acceptConfigAfterCommand(program: Command): void {
  for (const cmd of program.commands) {
    const own = cmd.options.some((o) => o.long === '--config' || o.short === '-c');
    if (!own) cmd.addOption(new Option('-c, --config <path>', 'config file (the same as -c before the command)').hideHelp());
    acceptConfigAfterCommand(cmd);
  }
}
