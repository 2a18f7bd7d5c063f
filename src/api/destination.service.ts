/**
 * Destinations: named, reusable credentials. Non-secret settings live in `config` (jsonb); the plugin's secret
 * fields are sealed together in `encrypted_secrets` and never leave the server (reads show "********").
 */
import { inject, injectable } from 'tsyringe';
import { IsNull, type DataSource, type EntityManager } from 'typeorm';
import { PluginRegistry } from '../plugins';
import { configLocations, parseNetworkPolicy, type NetworkPolicy } from '../plugins/network-policy';
import { classifyCommonError, isDestinationError, type DestinationPlugin } from '../sdk';
import { teamLocalFilesDirectory, type Config } from '../config';
import { pluginLogger, type Logger } from '../logger';
import { BatchExportEntity, DestinationEntity } from '../store/entities';
import type { SecretBox } from '../store/secrets';
import { CONFIG, DATA_SOURCE, LOGGER, SECRET_BOX } from '../tokens';
import { API_OPTIONS, type ApiOptions } from './context';
import { badInput } from './errors';
import { loadDestination } from './lookup';
import { PluginAccess } from './plugin-access';

export const TEST_CONNECTION_TIMEOUT_MS = 15_000;
export const DESTINATION_NAME_MAX = 200;

export interface TestResult {
  ok: boolean;
  errorKind: string | null;
  message: string | null;
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

  catalog() {
    return this.plugins.catalog();
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
      return { ok: false, errorKind: 'config', message: `The stored configuration is not valid: ${issues}` };
    }
    // Checked again now: the policy may have changed since the config was stored, and names may resolve elsewhere.
    try {
      await this.checkLocations(parsed.data as Record<string, unknown>);
    } catch (err) {
      return { ok: false, errorKind: 'config', message: (err as Error).message };
    }
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const ms = this.options.testConnectionTimeoutMs;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(Object.assign(new Error(`Connection test timed out after ${ms / 1000} s`), { code: 'ETIMEDOUT' }));
      }, ms);
    });
    try {
      const logger = pluginLogger(this.log.child({ destinationId: dest.id, plugin: plugin.id }));
      await Promise.race([plugin.testConnection(parsed.data, { signal: controller.signal, logger, localFilesDirectory: teamLocalFilesDirectory(this.config, teamId) }), timeout]);
      return { ok: true, errorKind: null, message: null };
    } catch (err) {
      const classified = isDestinationError(err) ? err : (plugin.classifyError ?? classifyCommonError)(err);
      return { ok: false, errorKind: classified.kind, message: classified.message };
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
