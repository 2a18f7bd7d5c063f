import { startApiHarness, type ApiHarness } from '../support/api';

let h: ApiHarness;
let destinationId: string;
beforeAll(async () => {
  h = await startApiHarness();
  const r = await h.ok(h.a.token, `mutation { createDestination(input: { name: "files", type: "example-ndjson", config: { directory: "/tmp" } }) { id } }`);
  destinationId = r.createDestination.id;
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const FIELDS = `id name destinationId destination { id type } model interval timezone offsetHour offsetDay includeEvents excludeEvents
  filters { key operator value type } startAt endAt paused pausedAt scheduledUntil createdAt updatedAt`;
const CREATE = `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($input: UpdateBatchExportInput!) { updateBatchExport(input: $input) { ${FIELDS} } }`;

const create = (input: Record<string, unknown>) => h.gql(h.a.token, CREATE, { input: { name: 'e', destinationId, interval: 'HOUR', ...input } });

describe('batch export lifecycle', () => {
  it('create -> read -> update -> pause -> unpause -> delete', async () => {
    const before = Date.now();
    const created = (await create({
      name: 'Hourly events',
      includeEvents: ['$pageview', '$pageview', 'signup'],
      filters: [{ key: '$browser', operator: 'EXACT', value: ['Chrome', 'Firefox'] }, { key: 'plan', operator: 'IS_SET', type: 'PERSON' }],
    })).data!.createBatchExport;
    expect(created).toMatchObject({
      name: 'Hourly events', destinationId, destination: { id: destinationId, type: 'example-ndjson' }, model: 'EVENTS', interval: 'HOUR',
      timezone: 'UTC', offsetHour: 0, offsetDay: 0, includeEvents: ['$pageview', 'signup'], excludeEvents: [], paused: false, pausedAt: null,
      filters: [{ key: '$browser', operator: 'EXACT', value: ['Chrome', 'Firefox'], type: 'EVENT' }, { key: 'plan', operator: 'IS_SET', value: null, type: 'PERSON' }],
    });
    // The first run is the hour in progress at creation.
    const hourStart = Math.floor(before / 3_600_000) * 3_600_000;
    expect([hourStart, hourStart + 3_600_000]).toContain(new Date(created.scheduledUntil).getTime());
    const [row] = await h.ds.query(`SELECT model, interval, filters FROM batch_exports WHERE id = $1`, [created.id]);
    expect(row).toMatchObject({ model: 'events', interval: 'hour' });

    const read = await h.ok(h.a.readToken, `query($id: ID!) { batchExport(id: $id) { ${FIELDS} latestRuns(limit: 5) { id } } }`, { id: created.id });
    expect(read.batchExport).toMatchObject({ ...created, latestRuns: [] });

    const updated = (await h.ok(h.a.token, UPDATE, {
      input: { id: created.id, name: 'Daily', interval: 'DAY', timezone: 'Europe/Paris', offsetHour: 3, excludeEvents: ['$feature_flag_called'], filters: [] },
    })).updateBatchExport;
    expect(updated).toMatchObject({ name: 'Daily', interval: 'DAY', timezone: 'Europe/Paris', offsetHour: 3, excludeEvents: ['$feature_flag_called'], filters: [], includeEvents: ['$pageview', 'signup'] });
    // Coverage continues where the schedule stood; the scheduler bridges to the next Paris 03:00 boundary (issue 11.2).
    expect(updated.scheduledUntil).toBe(created.scheduledUntil);

    const paused = (await h.ok(h.a.token, `mutation($id: ID!) { pauseBatchExport(id: $id) { paused pausedAt } }`, { id: created.id })).pauseBatchExport;
    expect(paused.paused).toBe(true);
    expect(paused.pausedAt).toBeTruthy();
    const listPaused = await h.ok(h.a.token, `{ batchExports(paused: true) { edges { node { id } } } }`);
    expect(listPaused.batchExports.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([created.id]);

    const unpaused = (await h.ok(h.a.token, `mutation($id: ID!) { unpauseBatchExport(id: $id) { paused pausedAt scheduledUntil } }`, { id: created.id })).unpauseBatchExport;
    expect(unpaused).toMatchObject({ paused: false, pausedAt: null });

    const deleted = await h.ok(h.a.token, `mutation($id: ID!) { deleteBatchExport(id: $id) { id } }`, { id: created.id });
    expect(deleted.deleteBatchExport.id).toBe(created.id);
    const [soft] = await h.ds.query(`SELECT deleted_at FROM batch_exports WHERE id = $1`, [created.id]);
    expect(soft.deleted_at).toBeInstanceOf(Date);
    const gone = await h.gql(h.a.token, `query($id: ID!) { batchExport(id: $id) { id } }`, { id: created.id });
    expect(gone.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const again = await h.gql(h.a.token, `mutation($id: ID!) { deleteBatchExport(id: $id) { id } }`, { id: created.id });
    expect(again.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('unpause without backfill skips the paused gap; with backfillPausedGap it backfills it', async () => {
    const e = (await create({ name: 'gap', interval: 'EVERY_5_MINUTES' })).data!.createBatchExport;
    await h.ok(h.a.token, `mutation($id: ID!) { pauseBatchExport(id: $id) { id } }`, { id: e.id });
    // Pretend the export was paused 1 h ago with the scheduler stopped there.
    const hourAgo = new Date(Math.floor(Date.now() / 300_000) * 300_000 - 3_600_000);
    await h.ds.query(`UPDATE batch_exports SET paused_at = $2, scheduled_until = $2 WHERE id = $1`, [e.id, hourAgo]);
    const skipped = (await h.ok(h.a.token, `mutation($id: ID!) { unpauseBatchExport(id: $id) { scheduledUntil } }`, { id: e.id })).unpauseBatchExport;
    const currentStart = Math.floor(Date.now() / 300_000) * 300_000;
    expect(new Date(skipped.scheduledUntil).getTime()).toBe(currentStart);
    expect((await h.ok(h.a.token, `query($id: ID!) { backfills(batchExportId: $id) { edges { node { id } } } }`, { id: e.id })).backfills.edges).toEqual([]);

    await h.ok(h.a.token, `mutation($id: ID!) { pauseBatchExport(id: $id) { id } }`, { id: e.id });
    await h.ds.query(`UPDATE batch_exports SET paused_at = $2, scheduled_until = $2 WHERE id = $1`, [e.id, hourAgo]);
    await h.ok(h.a.token, `mutation($id: ID!) { unpauseBatchExport(id: $id, backfillPausedGap: true) { id } }`, { id: e.id });
    const bf = (await h.ok(h.a.token, `query($id: ID!) { backfills(batchExportId: $id) { edges { node { startAt endAt status progress { totalRuns } } } } }`, { id: e.id })).backfills.edges.map((edge: { node: unknown }) => edge.node);
    expect(bf).toHaveLength(1);
    expect(new Date(bf[0].startAt).getTime()).toBe(hourAgo.getTime());
    const end = new Date(bf[0].endAt).getTime();
    expect(end).toBe(Math.floor(Date.now() / 300_000) * 300_000);
    expect(bf[0].progress.totalRuns).toBe((end - hourAgo.getTime()) / 300_000);
  });

  it('pages through exports with cursors, newest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create({ name: `page ${i}` })).data!.createBatchExport.id);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = (await h.ok(h.a.token, `query($after: String) { batchExports(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`, { after })).batchExports;
      seen.push(...page.edges.map((e: { node: { id: string } }) => e.node.id));
      expect(page.edges.length).toBeLessThanOrEqual(2);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen.slice(0, 5)).toEqual([...ids].reverse());
    expect(new Set(seen).size).toBe(seen.length);
    const bad = await h.gql(h.a.token, `{ batchExports(after: "garbage") { edges { cursor } } }`);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const tooMany = await h.gql(h.a.token, `{ batchExports(first: 100000) { edges { cursor } } }`);
    expect(tooMany.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });
});

describe('batch export validation', () => {
  const expectBad = async (input: Record<string, unknown>, field: string, message: RegExp) => {
    const r = await create(input);
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(r.errors?.[0].message).toMatch(message);
  };

  it('names the field and says why', async () => {
    await expectBad({ timezone: 'Mars/Olympus' }, 'input.timezone', /Mars\/Olympus/);
    await expectBad({ interval: 'DAY', offsetHour: 24 }, 'input.offsetHour', /0 to 23/);
    await expectBad({ interval: 'WEEK', offsetDay: 7 }, 'input.offsetDay', /0 \(Sunday\) to 6/);
    await expectBad({ interval: 'HOUR', offsetHour: 2 }, 'input.offsetHour', /only to day and week/);
    await expectBad({ startAt: '2024-02-01T00:00:00Z', endAt: '2024-01-01T00:00:00Z' }, 'input.endAt', /after startAt/);
    await expectBad({ name: '' }, 'input.name', /name/);
    await expectBad({ name: 'x'.repeat(201) }, 'input.name', /name/);
    await expectBad({ model: 'SESSIONS' }, 'input.model', /does not support the sessions model/);
    await expectBad({ filters: [{ key: 'x', operator: 'similar' , value: 'a' }] }, 'input.filters.0.operator', /"similar" does not exist in "FilterOperator" enum/);
    await expectBad({ filters: [{ key: 'x', operator: 'GT', value: 'ten' }] }, 'input.filters.0.value', /finite number/);
    await expectBad({ filters: [{ key: 'x', operator: 'REGEX', value: '' }] }, 'input.filters.0.value', /non-empty string/);
    await expectBad({ filters: [{ key: 'x', operator: 'IS_SET', value: 'a' }] }, 'input.filters.0.value', /absent/);
    await expectBad({ filters: [{ key: 'x', operator: 'EXACT', value: { nested: 1 } }] }, 'input.filters.0.value', /string, number or boolean/);
    await expectBad({ filters: [{ key: 'x', operator: 'EXACT', value: 'a\u0000b' }] }, 'input.filters.0.value', /NUL/);
    await expectBad({ includeEvents: ['ok', ''] }, 'input.includeEvents.1', /empty/);
    const [{ n }] = await h.ds.query(`SELECT count(*)::int AS n FROM batch_exports WHERE team_id = $1 AND name = 'e'`, [h.a.id]);
    expect(n).toBe(0);
  });

  it('answers NOT_FOUND for a destination that does not exist', async () => {
    const r = await create({ destinationId: '00000000-0000-0000-0000-000000000000' });
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.destinationId' });
  });

  it('rejects an unknown interval at the GraphQL layer', async () => {
    const r = await create({ interval: 'FORTNIGHT' });
    expect(r.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0].message).toMatch(/FORTNIGHT/);
  });

  it('a failing update changes nothing', async () => {
    const e = (await create({ name: 'stable' })).data!.createBatchExport;
    const r = await h.gql(h.a.token, UPDATE, { input: { id: e.id, name: 'changed', timezone: 'Nowhere/Land' } });
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.timezone' });
    const read = await h.ok(h.a.token, `query($id: ID!) { batchExport(id: $id) { name timezone } }`, { id: e.id });
    expect(read.batchExport).toEqual({ name: 'stable', timezone: 'UTC' });
  });

  it('refuses event selections and property filters on persons and sessions exports, on create and on update', async () => {
    const files = (await h.ok(h.a.token, `mutation { createDestination(input: { name: "all models", type: "local-files", config: { path: "models" } }) { id } }`)).createDestination.id;
    const selections: [Record<string, unknown>, string][] = [
      [{ includeEvents: ['$pageview'] }, 'input.includeEvents'],
      [{ excludeEvents: ['$pageleave'] }, 'input.excludeEvents'],
      [{ filters: [{ key: '$browser', operator: 'EXACT', value: 'Chrome' }] }, 'input.filters'],
      [{ filters: [{ key: 'plan', operator: 'IS_SET', type: 'PERSON' }] }, 'input.filters'],
    ];
    for (const model of ['PERSONS', 'SESSIONS']) {
      for (const [selection, field] of selections) {
        const created = await create({ destinationId: files, model, ...selection });
        expect({ model, selection, error: created.errors?.[0].extensions }).toMatchObject({ model, selection, error: { code: 'BAD_USER_INPUT', field } });
        expect(created.errors?.[0].message).toMatch(new RegExp(`events model only.*${model.toLowerCase()}`));
      }
      // Empty lists are no selection.
      const plain = (await create({ destinationId: files, model, includeEvents: [], excludeEvents: [], filters: [] })).data!.createBatchExport;
      for (const [selection, field] of selections) {
        const updated = await h.gql(h.a.token, UPDATE, { input: { id: plain.id, ...selection } });
        expect({ model, selection, error: updated.errors?.[0].extensions }).toMatchObject({ model, selection, error: { code: 'BAD_USER_INPUT', field } });
      }
      // An events export with a selection cannot become a persons or sessions export that would ignore it...
      for (const [selection, field] of selections) {
        const events = (await create({ destinationId: files, ...selection })).data!.createBatchExport;
        const moved = await h.gql(h.a.token, UPDATE, { input: { id: events.id, model } });
        expect({ model, selection, error: moved.errors?.[0].extensions }).toMatchObject({ model, selection, error: { code: 'BAD_USER_INPUT', field } });
        expect((await h.ok(h.a.token, `query($id: ID!) { batchExport(id: $id) { model } }`, { id: events.id })).batchExport.model).toBe('EVENTS');
        // ...unless the same update clears it.
        const cleared = (await h.ok(h.a.token, UPDATE, { input: { id: events.id, model, includeEvents: [], excludeEvents: [], filters: [] } })).updateBatchExport;
        expect(cleared).toMatchObject({ model, includeEvents: [], excludeEvents: [], filters: [] });
      }
    }
    const [{ n }] = await h.ds.query(
      `SELECT count(*)::int AS n FROM batch_exports WHERE team_id = $1 AND model <> 'events' AND (cardinality(include_events) > 0 OR cardinality(exclude_events) > 0 OR jsonb_array_length(filters) > 0)`,
      [h.a.id],
    );
    expect(n).toBe(0);
  });

  it('reads a lone surrogate in a filter as U+FFFD, as the source reads documents', async () => {
    const r = await create({ filters: [{ key: 'title\udc00', operator: 'EXACT', value: ['Buy now \ud83d', 'ok'] }, { key: 'x', operator: 'ICONTAINS', value: '\ude00' }] });
    expect(r.errors).toBeUndefined();
    expect(r.data!.createBatchExport.filters).toEqual([
      { key: 'title\ufffd', operator: 'EXACT', value: ['Buy now \ufffd', 'ok'], type: 'EVENT' },
      { key: 'x', operator: 'ICONTAINS', value: '\ufffd', type: 'EVENT' },
    ]);
  });

  it('round-trips hostile event names and filter values', async () => {
    const events = ["it's \"quoted\"", 'back\\slash', '🚀 launch', '\u202Eevil', '$set'];
    const r = (await create({ includeEvents: events, filters: [{ key: "prop'; --", operator: 'ICONTAINS', value: '%_\\' }] })).data!.createBatchExport;
    expect(r.includeEvents).toEqual(events);
    expect(r.filters).toEqual([{ key: "prop'; --", operator: 'ICONTAINS', value: '%_\\', type: 'EVENT' }]);
    const nul = await create({ includeEvents: ['a\u0000b'] });
    expect(nul.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.includeEvents.0' });
  });
});
