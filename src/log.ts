import { pino, type Logger } from "pino";

export type { Logger };

/** JSON logs on stdout; `level` from --log-level / TOLLGATE_LOG_LEVEL. */
export function createLogger(level = process.env.TOLLGATE_LOG_LEVEL ?? "info"): Logger {
  return pino({ level, base: { app: "tollgate" }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
