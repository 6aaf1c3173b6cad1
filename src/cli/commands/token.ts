/**
 * `token create --tag TAG [--scope READONLY] --expires DATE [--yes]`: a long-lived token (POST /token), printed
 * once on stdout, to use as SENSOTERRA_TOKEN. READONLY is enough for everything but the management commands.
 */
import { parseInstant } from '../../time.js';
import { UsageError } from '../../errors.js';
import { confirmed, describeChanges } from '../../manage/confirm.js';
import { sensoterraClient } from '../lazy.js';
import { stringOption, type Command } from '../context.js';

const SCOPES = ['READONLY', 'READWRITE'];

export const tokenCommand: Command = {
  name: 'token',
  summary: 'create a long-lived API token (for SENSOTERRA_TOKEN); printed once, on stdout',
  usage: 'token create --tag TAG [--scope READONLY|READWRITE] --expires DATE [--yes]   (DATE: 2025-12-31 or ISO-8601)',
  options: {
    tag: { type: 'string', value: 'TAG', help: 'a name for the token, to find it again' },
    scope: { type: 'string', value: 'SCOPE', help: 'READONLY (default) or READWRITE' },
    expires: { type: 'string', value: 'DATE', help: 'when it stops working (2025-12-31 or ISO-8601)' },
    yes: { type: 'boolean', short: 'y', help: 'do it without asking first' },
  },
  async run(args, io) {
    if (args.positionals.join(' ') !== 'create')
      throw new UsageError('token needs a subcommand: token create --tag TAG --expires DATE');
    const tag = stringOption(args, 'tag')?.trim();
    if (!tag) throw new UsageError('token create needs --tag TAG (what the token is for)');
    const scope = (stringOption(args, 'scope') ?? 'READONLY').toUpperCase();
    if (!SCOPES.includes(scope)) throw new UsageError(`--scope ${scope}: expected ${SCOPES.join(' or ')}`);
    const expiration = expiryOf(stringOption(args, 'expires'));
    const plan = describeChanges('create token:', [
      ['tag', '(new)', tag],
      ['scope', '(new)', scope],
      ['expires', '(new)', expiration],
    ]);
    if (!(await confirmed(io, args.values.yes === true, plan))) return 1;
    const api = await sensoterraClient(io.config(), io.log());
    const { jwtExpiry } = await import('../../sensoterra/client.js');
    try {
      const token = await api.management.createToken({ tag, scope, expiration });
      io.err(
        `token created, expiring ${jwtExpiry(token)?.toISOString() ?? expiration}: keep it secret (e.g. SENSOTERRA_TOKEN in .env)`,
      );
      await io.out(token);
      return 0;
    } finally {
      await api.close();
    }
  },
};

/** A future date as ISO-8601 with an offset, as POST /token wants it. */
function expiryOf(text: string | undefined): string {
  if (text === undefined) throw new UsageError('token create needs --expires DATE (e.g. 2025-12-31)');
  const at = parseInstant(text, { dateOnly: true });
  if (!(at instanceof Date))
    throw new UsageError(
      `--expires ${text}: expected a date such as 2025-12-31 or 2025-12-31T12:00:00+01:00 (UTC without an offset)`,
    );
  const ms = at.getTime();
  if (ms <= Date.now())
    throw new UsageError(`--expires ${text}: the date has passed; a token must expire in the future`);
  return new Date(ms).toISOString().replace('Z', '+00:00');
}
