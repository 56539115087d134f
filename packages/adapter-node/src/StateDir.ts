import { join } from "node:path"
import { Config } from "effect"

/**
 * `LUNARBIT_STATE_DIR` (`.lunarbit`): the folder of the Node adapter's local state. The
 * development admin key, the SQLite database (unless `DATABASE_PATH` names another file) and,
 * beside the database, its key hashing secret all live here, so one setting moves them all.
 */
export const config: Config.Config<string> = Config.String("LUNARBIT_STATE_DIR").pipe(Config.withDefault(".lunarbit"))

/** `DATABASE_PATH`, or `gateway.db` in the state folder. */
export const databasePath: Config.Config<string> = Config.String("DATABASE_PATH").pipe(
  Config.orElse(() => Config.map(config, (dir) => join(dir, "gateway.db")))
)
