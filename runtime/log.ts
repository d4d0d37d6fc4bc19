import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Field names that may carry a secret anywhere in a log object. pino censors
 * them before serialisation, so a careless `log.info({ config })` cannot leak
 * a webhook secret, private key, installation token or JIT config.
 */
export const REDACT_PATHS = [
  'secret', '*.secret', 'webhookSecret', '*.webhookSecret', 'previousWebhookSecret', '*.previousWebhookSecret',
  'privateKey', '*.privateKey', 'token', '*.token', 'jitConfig', '*.jitConfig', 'encoded_jit_config',
  '*.encoded_jit_config', 'encodedJitConfig', '*.encodedJitConfig', 'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'password', '*.password', 'valkeyUrl', '*.valkeyUrl',
];

export interface LoggerOptions {
  level?: string;
  name?: string;
  destination?: DestinationStream;
}

/** The one logger factory: structured JSON on stdout, secrets redacted. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.RUNS_FLEET_LOG_LEVEL ?? 'info',
      base: { service: options.name ?? 'runs-fleet' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    options.destination,
  );
}

/** A logger that drops everything, for tests and benches that assert on other outputs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
