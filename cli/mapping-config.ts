// The mapping variables alone (for `berth explain`, which maps without running a handler): read and
// validated as the handler reads them, so explain shows what a handler with this environment would register.
import { envSchema, readEnv } from "../common/config.ts";
import { MAPPING_ENV, mappingSettings, type MappingEnv, type MappingSettings } from "../mapping/settings.ts";

const mappingEnv = envSchema<MappingEnv>("mapping", MAPPING_ENV);

/** Only the mapping variables of `env`; a bad value is a ConfigError listing all. */
export function loadMappingSettings(env: NodeJS.ProcessEnv): MappingSettings {
  return mappingSettings(readEnv(mappingEnv, env));
}
