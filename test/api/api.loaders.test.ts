/** Lists resolve each export's destination and latest runs with one query per field, not one per export. */
import { startApiHarness, type ApiHarness } from '../support/api';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApiHarness();
}, 60_000);
afterAll(() => h?.stop());

it('answers destination and latestRuns of every listed export correctly, in one query per field', async () => {
  const dests: string[] = [];
  for (const dir of ['/tmp/a', '/tmp/b']) {
    const r = await h.ok(h.a.token, `mutation($c: JSONObject!) { createDestination(input: { name: "files", type: "example-ndjson", config: $c }) { id } }`, { c: { directory: dir } });
    dests.push(r.createDestination.id);
  }
  const exports: { id: string; dest: string; runs: number }[] = [];
  for (let i = 0; i < 6; i++) {
    const dest = dests[i % 2];
    const r = await h.ok(h.a.token, `mutation($d: ID!) { createBatchExport(input: { name: "e${i}", destinationId: $d, interval: HOUR }) { id } }`, { d: dest });
    exports.push({ id: r.createBatchExport.id, dest, runs: i });
    for (let k = 0; k < i; k++) {
      await h.ds.query(
        `INSERT INTO runs (team_id, batch_export_id, interval_start, interval_end, status) VALUES ($1, $2, $3, $4, 'Completed')`,
        [h.a.id, r.createBatchExport.id, new Date(Date.UTC(2026, 0, 1, k)), new Date(Date.UTC(2026, 0, 1, k + 1))],
      );
    }
  }
  const proto = Object.getPrototypeOf(h.ds.createQueryRunner());
  const spy = jest.spyOn(proto, 'query');
  try {
    const data = await h.ok(h.a.token, `{ batchExports(first: 50) { edges { node { id destination { id } latestRuns(limit: 3) { intervalStart } } } } }`);
    const byId = new Map(data.batchExports.edges.map((e: { node: { id: string } }) => [e.node.id, e.node]));
    for (const e of exports) {
      const node = byId.get(e.id) as { destination: { id: string }; latestRuns: { intervalStart: string }[] };
      expect(node.destination.id).toBe(e.dest);
      const hours = node.latestRuns.map((r) => new Date(r.intervalStart).getUTCHours());
      expect(hours).toEqual([...Array(e.runs).keys()].reverse().slice(0, 3));
    }
    const sql = spy.mock.calls.map((c) => String(c[0]));
    expect(sql.filter((q) => /FROM "runs"/.test(q))).toHaveLength(1);
    expect(sql.filter((q) => /FROM "destinations"/.test(q))).toHaveLength(1);
  } finally {
    spy.mockRestore();
  }
});
