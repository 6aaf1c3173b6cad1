/**
 * pino, writing to stderr so that a command's answer on stdout stays clean for pipes.
 * Constant messages, data in the object: `log.info({ rows, ms }, 'readings written')`; errors under `err`.
 * Secrets are redacted wherever they appear in a logged object (the paths below) and, as a safety net, by value in
 * every line written (secrets.ts: the values configuration holds, wherever a library put them).
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { redact } from './secrets.js';

export type { Logger };

const REDACT = [
  'password',
  'token',
  'secret',
  'api_key',
  'apiKey',
  '*.password',
  '*.token',
  '*.secret',
  '*.hmacSecret',
  '*.api_key',
  '*.apiKey',
  'headers.api_key',
  'headers.authorization',
  'config.api.password',
  'config.api.token',
  'config.push.secret',
  'config.push.hmacSecret',
];

export function createLogger(
  level = 'info',
  destination?: pino.DestinationStream,
  format: 'json' | 'pretty' = 'json',
): Logger {
  return pino(
    {
      level,
      base: { service: 'sensoterra-sync' },
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
      // called once per line actually written: a level that is off costs nothing here
      hooks: { streamWrite: redact },
    },
    format === 'pretty' ? prettyTo(destination) : (destination ?? pino.destination(2)),
  );
}

/**
 * LOG_FORMAT=pretty: pino-pretty in this thread (no worker thread), `[HH:MM:ss.l] LEVEL: message` then the fields,
 * in colour on a terminal. It gets the JSON line after redaction (the hook above), so it shows no secret either.
 */
function prettyTo(destination: pino.DestinationStream | undefined): pino.DestinationStream {
  return pretty({
    destination: destination ?? 2,
    colorize: destination === undefined && process.stderr.isTTY,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    sync: true,
  });
}
