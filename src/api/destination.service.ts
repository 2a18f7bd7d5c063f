/**
 * Destinations: named, reusable credentials. Non-secret settings live in `config` (jsonb); the plugin's secret
 * fields are sealed together in `encrypted_secrets` and never leave the server (reads show "********").
 */
import { inject, injectable } from 'tsyringe';
import { IsNull, type DataSource, type EntityManager } from 'typeorm';
import { PluginRegistry } from '../plugins';
import { configLocations, parseNetworkPolicy, type NetworkPolicy } from '../plugins/network-policy';
import { classifyCommonError, CONNECTION_STEPS, isDestinationError, type ConnectionStep, type DestinationPlugin } from '../sdk';
import { teamLocalFilesDirectory, type Config } from '../config';
import { pluginLogger, type Logger } from '../logger';
import { BatchExportEntity, DestinationEntity } from '../store/entities';
import type { SecretBox } from '../store/secrets';
import { CONFIG, DATA_SOURCE, LOGGER, SECRET_BOX } from '../tokens';
import { API_OPTIONS, type ApiOptions } from './context';
import { fileFormatOf } from './enums';
import { badInput } from './errors';
import { loadDestination } from './lookup';
import { PluginAccess } from './plugin-access';

export const TEST_CONNECTION_TIMEOUT_MS = 15_000;
export const DESTINATION_NAME_MAX = 200;

export interface TestStepResult {
  name: ConnectionStep;
  ok: boolean;
  message: string;
}

export interface TestResult {
  ok: boolean;
  errorKind: string | null;
  message: string | null;
  /** The steps the test ran, in order; the failing one (if any) is last. */
  steps: TestStepResult[];
}

const STEP_OK: Record<ConnectionStep, string> = {
  connect: 'Reached the destination.',
  authenticate: 'Signed in.',
  permissions: 'The credentials have the access a run needs.',
  write_probe: 'A test write succeeded and left nothing behind.',
};

/** Every secret value of the config replaced by "********" in `text`: drivers may quote what they were given. */
function redactSecrets(text: string, secrets: string[]): string {
  let out = text;
  for (const v of secrets) if (v.length >= 3) out = out.split(v).join('********');
  return out;
}

function failedBeforeConnecting(errorKind: string, message: string): TestResult {
  return { ok: false, errorKind, message, steps: [{ name: 'connect', ok: false, message }] };
}

/** The step after the last one recorded: where a failure outside any step happened. */
function nextStep(steps: TestStepResult[]): ConnectionStep {
  const last = steps.at(-1);
  if (!last) return 'connect';
  return CONNECTION_STEPS[Math.min(CONNECTION_STEPS.indexOf(last.name) + 1, CONNECTION_STEPS.length - 1)];
}

function checkName(name: string, field = 'name'): string {
  const trimmed = name.trim();
  if (!trimmed) throw badInput(field, 'must not be empty');
  if (trimmed.length > DESTINATION_NAME_MAX) throw badInput(field, `must be at most ${DESTINATION_NAME_MAX} characters`);
  return trimmed;
}

function checkObject(config: unknown, field = 'config'): Record<string, unknown> {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw badInput(field, 'must be a JSON object');
  return config as Record<string, unknown>;
}

@injectable()
export class DestinationService {
  private readonly plugins: PluginAccess;

  constructor(
    @inject(DATA_SOURCE) private readonly ds: DataSource,
    @inject(SECRET_BOX) private readonly box: SecretBox,
    @inject(LOGGER) private readonly log: Logger,
    @inject(PluginRegistry) registry: PluginRegistry,
    @inject(API_OPTIONS) private readonly options: ApiOptions,
    @inject(CONFIG) private readonly config: Pick<Config, 'OUTPORT_LOCAL_FILES_ROOT' | 'OUTPORT_DESTINATION_NETWORKS'>,
  ) {
    this.plugins = new PluginAccess(registry);
    this.network = parseNetworkPolicy(config.OUTPORT_DESTINATION_NETWORKS);
  }

  private readonly network: NetworkPolicy;

  /** Every host, endpoint and URL of the config must be a location the operator allows (OUTPORT_DESTINATION_NETWORKS). */
  private async checkLocations(config: Record<string, unknown>): Promise<void> {
    for (const { field, host } of configLocations(config)) {
      try {
        await this.network.checkHost(host);
      } catch (err) {
        throw badInput(`config.${field}`, (err as Error).message);
      }
    }
  }

  /** The plugin catalog as the API shows it: file formats in the API's one spelling (plugins spell them two ways). */
  catalog() {
    return this.plugins.catalog().map((entry) => {
      const declared = entry.capabilities.formats;
      const formats = declared ? [...new Set(declared.map(fileFormatOf).filter((f) => f !== undefined))] : null;
      return { ...entry, capabilities: { ...entry.capabilities, formats } };
    });
  }

  plugin(type: string, field?: string): DestinationPlugin {
    return this.plugins.plugin(type, field);
  }

  list(teamId: number): Promise<DestinationEntity[]> {
    return this.ds.getRepository(DestinationEntity).find({ where: { teamId, deletedAt: IsNull() }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  get(teamId: number, id: string): Promise<DestinationEntity> {
    return loadDestination(this.ds.manager, teamId, id);
  }

  /** The config as clients see it: stored settings plus secrets masked. */
  maskedConfig(dest: DestinationEntity): Record<string, unknown> {
    const secrets = this.box.decrypt(dest.encryptedSecrets);
    return this.plugins.mask(dest.type, this.plugins.knownKeysOnly(dest.type, { ...dest.config, ...secrets }));
  }

  async create(teamId: number, name: string, type: string, config: unknown): Promise<DestinationEntity> {
    const cleanName = checkName(name);
    const plugin = this.plugins.plugin(type);
    // Only the schema's output is stored: whatever else the client sent never reaches the store.
    const parsed = this.plugins.validate(type, checkObject(config));
    await this.checkLocations(parsed);
    const row = this.ds.getRepository(DestinationEntity).create({ teamId, name: cleanName, type, ...this.split(plugin, parsed) });
    return this.ds.getRepository(DestinationEntity).save(row);
  }

  async update(teamId: number, id: string, name: string | undefined | null, patch: unknown): Promise<DestinationEntity> {
    return this.ds.transaction(async (m) => {
      const dest = await loadDestination(m, teamId, id, { lock: true });
      if (name !== undefined && name !== null) dest.name = checkName(name);
      if (patch !== undefined && patch !== null) {
        const plugin = this.plugins.plugin(dest.type);
        const stored = { ...dest.config, ...this.box.decrypt(dest.encryptedSecrets) };
        const given = checkObject(patch);
        const merged = this.plugins.merge(dest.type, stored, given);
        // Unknown keys are refused in what the client sent; ones an older version stored are dropped by parsing.
        const parsed = this.plugins.validate(dest.type, merged, { given });
        await this.checkLocations(parsed);
        Object.assign(dest, this.split(plugin, parsed));
      }
      return m.getRepository(DestinationEntity).save(dest);
    });
  }

  async delete(teamId: number, id: string): Promise<DestinationEntity> {
    return this.ds.transaction(async (m) => {
      const dest = await loadDestination(m, teamId, id, { lock: true });
      const users = await this.liveExports(m, dest.id);
      if (users.length) {
        const names = users.map((e) => JSON.stringify(e.name)).join(', ');
        throw badInput('id', `destination is used by ${users.length} export(s): ${names}; delete them or move them to another destination first`);
      }
      dest.deletedAt = new Date();
      return m.getRepository(DestinationEntity).save(dest);
    });
  }

  /** Runs the plugin's connection test with the decrypted config; never throws for destination-side failures. */
  async test(teamId: number, id: string): Promise<TestResult> {
    const dest = await this.get(teamId, id);
    const plugin = this.plugins.plugin(dest.type);
    const parsed = plugin.configSchema.safeParse({ ...dest.config, ...this.box.decrypt(dest.encryptedSecrets) });
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
      return failedBeforeConnecting('config', `The stored configuration is not valid: ${issues}`);
    }
    // Checked again now: the policy may have changed since the config was stored, and names may resolve elsewhere.
    try {
      await this.checkLocations(parsed.data as Record<string, unknown>);
    } catch (err) {
      return failedBeforeConnecting('config', (err as Error).message);
    }
    return this.runConnectionTest(plugin, parsed.data as Record<string, unknown>, teamId, { destinationId: dest.id });
  }

  /**
   * Tests a configuration that is not saved (or a saved destination's with unsaved changes, `destinationId`: the
   * changes are merged onto the stored config as an update would, so masked secrets keep their stored values).
   * The config is validated and its locations checked like on create (BAD_USER_INPUT naming `input.config.*`);
   * nothing is stored, and secrets are neither logged nor echoed (each secret value is masked in the messages).
   */
  async testConfig(teamId: number, type: string, config: unknown, destinationId?: string | null): Promise<TestResult> {
    let full = checkObject(config, 'input.config');
    if (destinationId) {
      const dest = await this.get(teamId, destinationId);
      if (dest.type !== type) throw badInput('input.type', `destination ${destinationId} is of type ${dest.type}; a destination's type cannot change`);
      full = this.plugins.merge(type, { ...dest.config, ...this.box.decrypt(dest.encryptedSecrets) }, full);
    }
    const plugin = this.plugins.plugin(type, 'input.type');
    const parsed = this.plugins.validate(type, full, { field: 'input.config', ...(destinationId ? { given: checkObject(config, 'input.config') } : {}) });
    try {
      await this.checkLocations(parsed);
    } catch (err) {
      throw badInput(String((err as { extensions?: { field?: string } }).extensions?.field ?? 'config').replace(/^config/, 'input.config'), (err as Error).message);
    }
    return this.runConnectionTest(plugin, parsed, teamId, destinationId ? { destinationId } : { unsaved: true });
  }

  /**
   * Runs the plugin's testConnection, recording the steps it reports through `ctx.step` (one `connect` step for a
   * plugin that reports none); a failure outside any step is the step after the last one that passed.
   */
  private async runConnectionTest(plugin: DestinationPlugin, config: Record<string, unknown>, teamId: number, logFields: Record<string, unknown>): Promise<TestResult> {
    const secrets = plugin.secretFields.map((f) => config[f]).filter((v): v is string => typeof v === 'string');
    const steps: TestStepResult[] = [];
    let running: ConnectionStep | undefined;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const ms = this.options.testConnectionTimeoutMs;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(Object.assign(new Error(`Connection test timed out after ${ms / 1000} s`), { code: 'ETIMEDOUT' }));
      }, ms);
    });
    const classify = (err: unknown) => (isDestinationError(err) ? err : (plugin.classifyError ?? classifyCommonError)(err));
    const step = async <T>(name: ConnectionStep, fn: () => Promise<T>, detail?: string): Promise<T> => {
      running = name;
      try {
        const value = await fn();
        steps.push({ name, ok: true, message: redactSecrets(detail ?? STEP_OK[name], secrets) });
        return value;
      } catch (err) {
        steps.push({ name, ok: false, message: redactSecrets(classify(err).message, secrets) });
        throw err;
      } finally {
        running = undefined;
      }
    };
    try {
      const logger = pluginLogger(this.log.child({ ...logFields, plugin: plugin.id }));
      await Promise.race([plugin.testConnection(config, { signal: controller.signal, logger, localFilesDirectory: teamLocalFilesDirectory(this.config, teamId), step }), timeout]);
      if (!steps.length) steps.push({ name: 'connect', ok: true, message: 'The destination accepted the connection test.' });
      return { ok: true, errorKind: null, message: null, steps };
    } catch (err) {
      const classified = classify(err);
      const message = redactSecrets(classified.message, secrets);
      const failed = steps.find((s) => !s.ok);
      if (running && !failed) steps.push({ name: running, ok: false, message }); // timed out inside a step
      else if (!failed) steps.push({ name: nextStep(steps), ok: false, message });
      return { ok: false, errorKind: classified.kind, message, steps };
    } finally {
      clearTimeout(timer);
    }
  }

  private liveExports(m: EntityManager, destinationId: string): Promise<BatchExportEntity[]> {
    return m.getRepository(BatchExportEntity).find({ where: { destinationId, deletedAt: IsNull() }, select: { id: true, name: true }, take: 20 });
  }

  private split(plugin: DestinationPlugin, full: Record<string, unknown>): Pick<DestinationEntity, 'config' | 'encryptedSecrets'> {
    const config: Record<string, unknown> = {};
    const secrets: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(full)) (plugin.secretFields.includes(k) ? secrets : config)[k] = v;
    return { config, encryptedSecrets: Object.keys(secrets).length ? this.box.encrypt(secrets) : null };
  }
}
