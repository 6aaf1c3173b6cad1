/** `customer create --name NAME --email EMAIL [--yes]`: a new customer account under the reseller. */
import type { SyncAnswer } from '../../control/handlers.js';
import { sensoterraClient, viaWorkerOrLocally } from '../lazy.js';
import { UsageError } from '../../errors.js';
import { confirmed, describeChanges } from '../../manage/confirm.js';
import { redact } from '../../secrets.js';
import { stringOption, type Command } from '../context.js';

export const customerCommand: Command = {
  name: 'customer',
  summary: "create a customer account under the reseller; the warehouse's customers table shows it at once",
  usage: 'customer create --name NAME --email EMAIL [--yes]',
  options: {
    name: { type: 'string', value: 'NAME', help: "the customer's name" },
    email: { type: 'string', value: 'EMAIL', help: "the customer's e-mail address (its login)" },
    yes: { type: 'boolean', short: 'y', help: 'do it without asking first' },
  },
  async run(args, io) {
    if (args.positionals.join(' ') !== 'create')
      throw new UsageError('customer needs a subcommand: customer create --name NAME --email EMAIL');
    const name = stringOption(args, 'name')?.trim();
    const email = stringOption(args, 'email')?.trim();
    if (!name) throw new UsageError('customer create needs --name NAME');
    if (!email || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))
      throw new UsageError(`--email ${email ?? '(missing)'}: expected an e-mail address`);
    const api = await sensoterraClient(io.config(), io.log());
    try {
      for await (const batch of api.customers()) {
        const same = batch.find((c) => c.value.email?.toLowerCase() === email.toLowerCase());
        if (same)
          throw new UsageError(
            `customer ${same.value.id} (${same.value.name ?? ''}) already has the e-mail address ${email}`,
          );
      }
      const plan = describeChanges('create customer:', [
        ['name', '(new)', name],
        ['email', '(new)', email],
      ]);
      if (!(await confirmed(io, args.values.yes === true, plan))) return 1;
      const created = await api.management.createCustomer({ name, email });
      await io.out(`customer ${created.id} created`);
    } finally {
      await api.close();
    }
    const sync = await viaWorkerOrLocally<SyncAnswer>(
      io.config(),
      io.log(),
      'sync',
      { target: 'customers' },
      { timeoutMs: 10 * 60_000 },
    );
    await io.out(`warehouse: ${sync.map((r) => ('summary' in r ? r.summary : redact(r.error))).join('; ')}`);
    return sync.some((r) => r.status === 'failed') ? 1 : 0;
  },
};
