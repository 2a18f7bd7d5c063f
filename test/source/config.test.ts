import { parseSourceConfig } from '../../src/source/config';
import { validatePropertyFilters } from '../../src/source/filters';
import { sourceTableDdl } from '../../src/source/schema';

describe('source configuration', () => {
  it('fills defaults', () => {
    expect(parseSourceConfig({ url: 'http://localhost:8123' })).toMatchObject({
      database: 'default',
      tables: { events: 'events', person: 'person', personDistinctId: 'person_distinct_id2' },
      lookbackDays: 7,
      batchSize: 10000,
    });
  });

  it.each([
    [{ url: 'http://x', database: 'a;b' }, /database must be a plain identifier/],
    [{ url: 'http://x', tables: { events: 'ev"ents' } }, /tables\.events must be a plain identifier/],
    [{ url: 'http://x', tables: { personDistinctId: 'db.t' } }, /tables\.personDistinctId must be a plain identifier/],
    [{ url: 'http://x', lookbackDays: -1 }, /lookbackDays/],
    [{ url: 'not a url' }, /url/],
  ])('rejects %j naming the setting', (input, message) => {
    expect(() => parseSourceConfig(input)).toThrow(message);
  });

  it('refuses hostile identifiers in DDL', () => {
    expect(() => sourceTableDdl({ database: "x`; DROP" })).toThrow(/database must be a plain identifier/);
  });
});

describe('property filter validation', () => {
  it('accepts each operator with a fitting value', () => {
    expect(
      validatePropertyFilters([
        { key: 'a', operator: 'exact', value: ['x', 1, true] },
        { key: 'a', operator: 'is_not', value: 'x' },
        { key: 'a', operator: 'icontains', value: '' },
        { key: 'a', operator: 'not_icontains', value: 'x' },
        { key: 'a', operator: 'regex', value: '^x' },
        { key: 'a', operator: 'is_set' },
        { key: 'a', operator: 'is_not_set' },
        { key: 'a', operator: 'gt', value: '5' },
        { key: 'a', operator: 'lt', value: 5, type: 'person' },
      ]).map((f) => [f.operator, f.value, f.type]),
    ).toEqual([
      ['exact', ['x', 1, true], 'event'],
      ['is_not', 'x', 'event'],
      ['icontains', '', 'event'],
      ['not_icontains', 'x', 'event'],
      ['regex', '^x', 'event'],
      ['is_set', undefined, 'event'],
      ['is_not_set', undefined, 'event'],
      ['gt', 5, 'event'],
      ['lt', 5, 'person'],
    ]);
  });

  it.each([
    [{ key: '', operator: 'exact', value: 'x' }, /filters\[0\]\.key/],
    [{ key: 'a', operator: 'like', value: 'x' }, /filters\[0\]\.operator must be one of/],
    [{ key: 'a', operator: 'exact' }, /filters\[0\]\.value/],
    [{ key: 'a', operator: 'exact', value: [] }, /non-empty list/],
    [{ key: 'a', operator: 'regex', value: '' }, /non-empty string/],
    [{ key: 'a', operator: 'gt', value: 'abc' }, /finite number/],
    [{ key: 'a', operator: 'is_set', value: 'x' }, /must be absent/],
    [{ key: 'a', operator: 'exact', value: 'x', type: 'group' }, /type must be/],
  ])('rejects %j', (filter, message) => {
    expect(() => validatePropertyFilters([filter])).toThrow(message);
  });
});
